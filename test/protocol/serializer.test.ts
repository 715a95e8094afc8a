import { describe, expect, it } from 'vitest';
import {
  CONSTANT_PACKETS,
  PacketParser,
  encodePacket,
  encodePacketChunks,
  type Packet,
} from '../../src/protocol/index.ts';
import { PACKET_FIXTURES, ascii, fixture, plain } from '../fixtures/packets.ts';

const hex = (bytes: ArrayLike<number>): string => Buffer.from(Array.from(bytes)).toString('hex');

describe('encodePacket: every fixture packet gives the fixture bytes', () => {
  for (const f of PACKET_FIXTURES) {
    it(f.name, () => {
      expect(encodePacket(f.packet, f.magic).toString('hex')).toBe(hex(f.bytes));
      const chunks = encodePacketChunks(f.packet, f.magic);
      expect(chunks).toHaveLength(1); // small payloads are copied in with the header
      expect(Buffer.concat(chunks).toString('hex')).toBe(hex(f.bytes));
    });
  }

  it('only the magic differs between REQ and RES', () => {
    const req = encodePacket({ type: 'WORK_DATA', handle: 'H:1', data: Buffer.from('x') }, 'REQ');
    const res = encodePacket({ type: 'WORK_DATA', handle: 'H:1', data: Buffer.from('x') }, 'RES');
    expect(req.toString('hex')).toBe(hex([0x00, 0x52, 0x45, 0x51, 0, 0, 0, 28, 0, 0, 0, 5, ...ascii('H:1'), 0, 0x78]));
    expect(res.toString('hex')).toBe(hex([0x00, 0x52, 0x45, 0x53, 0, 0, 0, 28, 0, 0, 0, 5, ...ascii('H:1'), 0, 0x78]));
  });
});

describe('encodePacketChunks: large payloads', () => {
  it('returns a payload of 16 KiB as its own chunk, the same Buffer object', () => {
    const data = Buffer.alloc(16 * 1024, 0x61);
    const chunks = encodePacketChunks({ type: 'SUBMIT_JOB', fn: 'big', unique: 'u', data }, 'REQ');
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(data);
    // size = 3 + 1 + 1 + 1 + 16384 = 16390 = 0x4006
    expect(chunks[0]?.toString('hex')).toBe(
      hex([0x00, 0x52, 0x45, 0x51, 0, 0, 0, 7, 0, 0, 0x40, 0x06, ...ascii('big'), 0, ...ascii('u'), 0]),
    );
    expect(encodePacket({ type: 'SUBMIT_JOB', fn: 'big', unique: 'u', data }, 'REQ').equals(
      Buffer.concat([chunks[0] as Buffer, data]),
    )).toBe(true);
  });

  it('a data-only packet: the head is the 12-byte header alone', () => {
    const data = Buffer.alloc(20000, 0);
    const chunks = encodePacketChunks({ type: 'ECHO_RES', data }, 'RES');
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(data);
    // size 20000 = 0x4e20
    expect(chunks[0]?.toString('hex')).toBe(hex([0x00, 0x52, 0x45, 0x53, 0, 0, 0, 17, 0, 0, 0x4e, 0x20]));
  });

  it('a payload one byte under 16 KiB is copied into one chunk', () => {
    const data = Buffer.alloc(16 * 1024 - 1, 0x62);
    const chunks = encodePacketChunks({ type: 'WORK_COMPLETE', handle: 'H:1', data }, 'REQ');
    expect(chunks).toHaveLength(1);
    const [only] = chunks as [Buffer];
    expect(only.length).toBe(12 + 4 + data.length);
    // size = 3 + 1 + 16383 = 16387 = 0x4003
    expect(only.subarray(0, 16).toString('hex')).toBe(
      hex([0x00, 0x52, 0x45, 0x51, 0, 0, 0, 13, 0, 0, 0x40, 0x03, ...ascii('H:1'), 0]),
    );
    data.fill(0x63); // a copy: the encoded packet does not change
    expect(only.subarray(16).every((byte) => byte === 0x62)).toBe(true);
  });

  it('the two chunks parse back to the packet', () => {
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const packet: Packet = { type: 'JOB_ASSIGN_ALL', handle: 'H:9', fn: 'm', unique: '', reducer: 'r', data };
    const got: Packet[] = [];
    const parser = new PacketParser({ onPacket: (p) => got.push(p) });
    for (const chunk of encodePacketChunks(packet, 'RES')) parser.push(chunk);
    expect(got.map(plain)).toEqual([plain(packet)]);
  });
});

describe('CONSTANT_PACKETS', () => {
  const expected: Record<keyof typeof CONSTANT_PACKETS, number[]> = {
    PRE_SLEEP: [0x00, 0x52, 0x45, 0x51, 0, 0, 0, 4, 0, 0, 0, 0],
    GRAB_JOB: [0x00, 0x52, 0x45, 0x51, 0, 0, 0, 9, 0, 0, 0, 0],
    GRAB_JOB_UNIQ: [0x00, 0x52, 0x45, 0x51, 0, 0, 0, 0x1e, 0, 0, 0, 0],
    GRAB_JOB_ALL: [0x00, 0x52, 0x45, 0x51, 0, 0, 0, 0x27, 0, 0, 0, 0],
    RESET_ABILITIES: [0x00, 0x52, 0x45, 0x51, 0, 0, 0, 3, 0, 0, 0, 0],
    NOOP: [0x00, 0x52, 0x45, 0x53, 0, 0, 0, 6, 0, 0, 0, 0],
    NO_JOB: [0x00, 0x52, 0x45, 0x53, 0, 0, 0, 10, 0, 0, 0, 0],
  };

  it('has exactly the hand-written packets', () => {
    expect(Object.keys(CONSTANT_PACKETS).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, bytes] of Object.entries(expected)) {
    it(name, () => {
      expect(CONSTANT_PACKETS[name as keyof typeof CONSTANT_PACKETS].toString('hex')).toBe(hex(bytes));
    });
  }
});

describe('multi-byte UTF-8 text arguments are counted in bytes', () => {
  it('2-byte characters (fixture "wörd", "ü")', () => {
    const f = fixture('SUBMIT_JOB with multi-byte UTF-8 arguments');
    expect(encodePacket(f.packet, 'REQ').readUInt32BE(8)).toBe(10);
  });

  it('a 4-byte character in a function name: "😀" is 2 UTF-16 units, 4 bytes', () => {
    const encoded = encodePacket({ type: 'SUBMIT_JOB', fn: '\u{1f600}', unique: '', data: Buffer.alloc(0) }, 'REQ');
    // 4 + 1 + 0 + 1 + 0 = 6
    expect(encoded.toString('hex')).toBe(
      hex([0x00, 0x52, 0x45, 0x51, 0, 0, 0, 7, 0, 0, 0, 6, 0xf0, 0x9f, 0x98, 0x80, 0, 0]),
    );
  });

  it('3-byte characters before a large separate payload', () => {
    const data = Buffer.alloc(16 * 1024, 0);
    // "€" = e2 82 ac; size = 3 + 1 + 16384 = 16388 = 0x4004
    const chunks = encodePacketChunks({ type: 'WORK_DATA', handle: '€', data }, 'REQ');
    expect(chunks[0]?.toString('hex')).toBe(
      hex([0x00, 0x52, 0x45, 0x51, 0, 0, 0, 28, 0, 0, 0x40, 0x04, 0xe2, 0x82, 0xac, 0]),
    );
    expect(chunks[1]).toBe(data);
  });
});
