/**
 * The server's per-connection outbox: packets encoded into slabs (short ASCII text by a loop,
 * anything else by Buffer#write), taken as chunks once per flush. Expected bytes are written out by
 * hand here (header bytes, UTF-8 byte values), never by our serializer.
 */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/server/outbox.ts';

const RES = [0x00, 0x52, 0x45, 0x53];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
/** A RES packet: type, then the body bytes, with the size counted from them. */
const res = (type: number, body: number[]): Buffer => Buffer.from([...RES, ...u32(type), ...u32(body.length), ...body]);
const codes = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

function taken(box: Outbox): Buffer {
  return Buffer.concat(box.take());
}

describe('Outbox', () => {
  it('writes a JOB_CREATED handle and a JOB_ASSIGN_UNIQ (handle, function, unique, payload) byte for byte', () => {
    const box = new Outbox();
    box.packet(8, undefined, 'H:box:1');
    box.packet(31, Buffer.from([1, 0, 2]), 'H:box:1', 'fn', 'u-1');
    const expected = Buffer.concat([
      res(8, codes('H:box:1')),
      res(31, [...codes('H:box:1'), 0, ...codes('fn'), 0, ...codes('u-1'), 0, 1, 0, 2]),
    ]);
    expect(taken(box)).toEqual(expected);
    expect(box.empty).toBe(true);
  });

  it('writes non-ASCII text as UTF-8, also when it starts as ASCII (the loop gives up mid-string)', () => {
    const box = new Outbox();
    // 'é' is C3 A9 and '€' is E2 82 AC in UTF-8.
    box.packet(8, undefined, 'H:hôte:1');
    box.packet(13, Buffer.from('ok'), 'abcdefgh€');
    const expected = Buffer.concat([
      res(8, [...codes('H:h'), 0xc3, 0xb4, ...codes('te:1')]),
      res(13, [...codes('abcdefgh'), 0xe2, 0x82, 0xac, 0, ...codes('ok')]),
    ]);
    expect(taken(box)).toEqual(expected);
  });

  it('writes a function name longer than the loop takes (300 bytes) whole', () => {
    const box = new Outbox();
    const name = 'f'.repeat(300);
    box.packet(11, Buffer.from('x'), 'H:box:2', name);
    expect(taken(box)).toEqual(res(11, [...codes('H:box:2'), 0, ...codes(name), 0, ...codes('x')]));
  });

  it('keeps order and boundaries across slab rollovers and a big payload sent by reference', () => {
    const box = new Outbox();
    const expected: Buffer[] = [];
    // 2,000 packets of ~30 bytes: several 16 KiB slabs.
    for (let i = 1; i <= 2000; i++) {
      const handle = `H:box:${i}`;
      box.packet(13, Buffer.from([i & 0xff]), handle);
      expected.push(res(13, [...codes(handle), 0, i & 0xff]));
      if (i === 1000) {
        const big = Buffer.alloc(20_000, 0x61);
        box.packet(13, big, 'H:big');
        expected.push(Buffer.from([...RES, ...u32(13), ...u32(6 + big.length), ...codes('H:big'), 0]), big);
      }
    }
    const chunks = box.take();
    expect(chunks.length).toBeGreaterThan(2);
    const got = Buffer.concat(chunks);
    const want = Buffer.concat(expected);
    // Buffer#equals: a deep compare of 80 KB element by element takes seconds on a loaded machine.
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
  });

  it('writes every byte of a 32-bit size header (a payload of 16,909,056 bytes: size 0x01020304)', () => {
    const box = new Outbox();
    const big = Buffer.alloc(0x01020300, 0x62);
    box.packet(13, big, 'H:w');
    const [head, payload] = box.take();
    expect([...(head as Buffer)]).toEqual([0x00, 0x52, 0x45, 0x53, 0, 0, 0, 13, 0x01, 0x02, 0x03, 0x04, 0x48, 0x3a, 0x77, 0]);
    expect(payload).toBe(big);
  });

  it('bytes already handed out are never overwritten by later packets', () => {
    const box = new Outbox();
    box.packet(8, undefined, 'H:box:1');
    const first = box.take();
    const copy = Buffer.concat(first);
    for (let i = 0; i < 100; i++) box.packet(8, undefined, `H:box:${i}`);
    box.take();
    expect(Buffer.concat(first)).toEqual(copy);
  });

  it('packetFrom: a WORK_COMPLETE from a range of another buffer, small (copied), across a slab boundary, and big (by reference)', () => {
    const box = new Outbox();
    const src = Buffer.from([9, 9, 1, 0, 2, 9]);
    box.packetFrom(13, 'H:box:7', src, 2, 5);
    box.packetFrom(13, 'H:box:8', src, 3, 3);
    // 16,000 bytes fill most of the first 16 KiB slab: the next packet starts a new one.
    const filler = Buffer.alloc(16_000, 0x41);
    box.packetFrom(13, 'H:f', filler, 0, filler.length);
    box.packetFrom(13, 'H:box:9', src, 0, 2);
    const big = Buffer.alloc(9000, 0x5a);
    const bigSource = Buffer.concat([Buffer.from([1, 2, 3]), big, Buffer.from([4])]);
    box.packetFrom(13, 'H:big', bigSource, 3, 3 + big.length);
    box.packetFrom(13, 'H:after', src, 2, 3);
    const chunks = box.take();
    expect(Buffer.concat(chunks)).toEqual(
      Buffer.concat([
        res(13, [...codes('H:box:7'), 0, 1, 0, 2]),
        res(13, [...codes('H:box:8'), 0]),
        res(13, [...codes('H:f'), 0, ...filler]),
        res(13, [...codes('H:box:9'), 0, 9, 9]),
        Buffer.from([...RES, ...u32(13), ...u32('H:big'.length + 1 + big.length), ...codes('H:big'), 0]),
        big,
        res(13, [...codes('H:after'), 0, 1]),
      ]),
    );
    // The big payload left as a view of its source, not a copy.
    expect(chunks.some((chunk) => chunk.buffer === bigSource.buffer && chunk.length === big.length)).toBe(true);
  });
});
