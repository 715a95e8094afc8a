/** The parser's function-name cache: a name is never taken from bytes that were reused, split or changed. */
import { describe, expect, it } from 'vitest';
import { PacketParser, type Packet } from '../../src/protocol/index.ts';
import { TextCache } from '../../src/protocol/text-cache.ts';
import { ascii, packetHeader } from '../fixtures/packets.ts';

/** SUBMIT_JOB (type 7): fn NUL unique NUL payload, bytes written out by hand. */
function submit(fn: string, unique: string, payload: string): Buffer {
  const body = Buffer.from([...ascii(fn), 0, ...ascii(unique), 0, ...ascii(payload)]);
  return Buffer.concat([packetHeader(7, body.length), body]);
}

function names(): { parser: PacketParser; fns: string[] } {
  const fns: string[] = [];
  const parser = new PacketParser({
    onPacket: (packet: Packet) => {
      if (packet.type === 'SUBMIT_JOB') fns.push(packet.fn);
    },
  });
  return { parser, fns };
}

describe('TextCache', () => {
  it('decodes what toString decodes, and a change in any byte gives a new string', () => {
    const cache = new TextCache();
    const a = Buffer.from('xxreverseyy');
    expect(cache.decode(a, 2, 9)).toBe('reverse');
    // Same bytes elsewhere: the same text.
    expect(cache.decode(Buffer.from('reverse'), 0, 7)).toBe('reverse');
    // Same length, last byte differs; first byte differs; shorter; empty.
    expect(cache.decode(Buffer.from('reversf'), 0, 7)).toBe('reversf');
    expect(cache.decode(Buffer.from('severse'), 0, 7)).toBe('severse');
    expect(cache.decode(Buffer.from('rev'), 0, 3)).toBe('rev');
    expect(cache.decode(Buffer.from(''), 0, 0)).toBe('');
    // Invalid UTF-8 reads as toString reads it.
    const bad = Buffer.from([0x66, 0xff, 0x6e]);
    expect(cache.decode(bad, 0, 3)).toBe(bad.toString('utf8'));
    expect(cache.decode(Buffer.from([0x66, 0xfe, 0x6e]), 0, 3)).toBe(Buffer.from([0x66, 0xfe, 0x6e]).toString('utf8'));
  });

  it('keeps its own copy: overwriting the decoded bytes does not change the next answer', () => {
    const cache = new TextCache();
    const chunk = Buffer.from('alpha');
    expect(cache.decode(chunk, 0, 5)).toBe('alpha');
    chunk.write('omega'); // the socket reused its buffer
    expect(cache.decode(chunk, 0, 5)).toBe('omega');
    expect(cache.decode(Buffer.from('alpha'), 0, 5)).toBe('alpha');
  });
});

describe('PacketParser function names across reads', () => {
  it('two names of the same length that differ in one byte stay apart, in one chunk and one byte at a time', () => {
    const bytes = Buffer.concat([submit('fn_a', 'u1', 'p1'), submit('fn_b', 'u2', 'p2'), submit('fn_a', '', 'p3'), submit('fn_b', '', '')]);
    const whole = names();
    whole.parser.push(bytes);
    expect(whole.fns).toEqual(['fn_a', 'fn_b', 'fn_a', 'fn_b']);

    // One reused 1-byte buffer for every read: each byte overwrites the last.
    const split = names();
    const reused = Buffer.alloc(1);
    for (const byte of bytes) {
      reused[0] = byte;
      split.parser.push(reused);
    }
    expect(split.fns).toEqual(['fn_a', 'fn_b', 'fn_a', 'fn_b']);
  });

  it('a packet split across two reads of one reused buffer gets its own name, not the bytes left from the first read', () => {
    const first = submit('queue_x', 'u', 'payload-one');
    const second = submit('queue_y', 'u', 'payload-two');
    const { parser, fns } = names();
    const reused = Buffer.alloc(first.length + 9);
    // Read 1: the whole first packet and the first 9 bytes of the second (its header's start).
    first.copy(reused, 0);
    second.copy(reused, first.length, 0, 9);
    parser.push(reused);
    // Read 2: the rest of the second packet, written over the same memory.
    reused.fill(0xaa);
    const rest = second.subarray(9);
    rest.copy(reused, 0);
    parser.push(reused.subarray(0, rest.length));
    expect(fns).toEqual(['queue_x', 'queue_y']);
  });
});
