/**
 * PacketParser's server-side options: the onFrame hook (every complete frame is offered as bytes
 * first, whether it lay in one chunk or spanned several; a frame it takes is not decoded, the
 * others reach onPacket, and the order of the stream is kept), and copyPayloadsUpTo (small
 * payloads as copies of their own, bigger ones as views of the chunk).
 */
import { describe, expect, it } from 'vitest';
import { PacketParser, encodePacket, packetInfo, type Packet } from '../../src/protocol/index.ts';

const WORK_COMPLETE = packetInfo('WORK_COMPLETE').code;

describe('PacketParser onFrame and copyPayloadsUpTo', () => {
  it('takes the frames it handles from their bytes and passes the rest on, in stream order, however the stream is cut', () => {
    const packets: Packet[] = [
      { type: 'WORK_COMPLETE', handle: 'H:x:1', data: Buffer.from('a\0b') },
      { type: 'WORK_DATA', handle: 'H:x:2', data: Buffer.from('data') },
      { type: 'WORK_COMPLETE', handle: 'H:x:3', data: Buffer.alloc(0) },
      { type: 'WORK_COMPLETE', handle: 'H:x:4', data: Buffer.alloc(3000, 7) },
      { type: 'GRAB_JOB_UNIQ' },
      { type: 'WORK_COMPLETE', handle: 'H:x:5', data: Buffer.from('last') },
    ];
    const stream = Buffer.concat(packets.map((p) => encodePacket(p, 'REQ')));
    // The expected events, written out: WORK_COMPLETE bodies as frames (handle NUL data), the rest as packets.
    const expected = [
      'frame H:x:1\0a\0b',
      'packet WORK_DATA H:x:2 data',
      'frame H:x:3\0',
      `frame H:x:4\0${'\x07'.repeat(3000)}`,
      'packet GRAB_JOB_UNIQ',
      'frame H:x:5\0last',
    ];
    for (const size of [stream.length, 1, 7, 12, 13, 100, 1000]) {
      const events: string[] = [];
      const parser = new PacketParser({
        onPacket: (p) => events.push(['packet', p.type, ...('handle' in p ? [p.handle] : []), ...('data' in p ? [p.data.toString('latin1')] : [])].join(' ')),
        onFrame: (code, magic, buf, from, to) => {
          if (code !== WORK_COMPLETE || magic !== 'REQ') return false;
          events.push(`frame ${buf.toString('latin1', from, to)}`);
          return true;
        },
      });
      for (let at = 0; at < stream.length; at += size) parser.push(stream.subarray(at, at + size));
      expect(events, `chunks of ${size} bytes`).toEqual(expected);
      expect(parser.idle).toBe(true);
    }
  });

  it('a frame it declines is decoded as usual, short forms included', () => {
    const events: Packet[] = [];
    const offered: number[] = [];
    const parser = new PacketParser({
      onPacket: (p) => events.push(p),
      onFrame: (code) => {
        offered.push(code);
        return false;
      },
    });
    // WORK_COMPLETE as the Perl worker sends an empty result: the handle alone, no NUL.
    const body = Buffer.from('H:x:9');
    const header = Buffer.from([0, 0x52, 0x45, 0x51, 0, 0, 0, WORK_COMPLETE, 0, 0, 0, body.length]);
    parser.push(Buffer.concat([header, body]));
    expect(offered).toEqual([WORK_COMPLETE]);
    expect(events).toEqual([{ type: 'WORK_COMPLETE', handle: 'H:x:9', data: Buffer.alloc(0) }]);
  });

  it('copyPayloadsUpTo: payloads up to the limit are copies that outlive the chunk, longer ones are views; every byte in place', () => {
    const sizes = [0, 1, 63, 64, 65, 100, 101, 5000];
    const packets: Packet[] = sizes.flatMap((size, i) => [
      { type: 'SUBMIT_JOB', fn: 'f', unique: `u${i}`, data: Buffer.alloc(size, 0x30 + i) },
      { type: 'WORK_DATA', handle: `H:x:${i}`, data: Buffer.alloc(size, 0x61 + i) },
      { type: 'ECHO_REQ', data: Buffer.alloc(size, 0x41 + i) },
    ]);
    const chunk = Buffer.concat(packets.map((p) => encodePacket(p, 'REQ')));
    const got: Packet[] = [];
    const parser = new PacketParser({ onPacket: (p) => got.push(p), copyPayloadsUpTo: 100 });
    parser.push(chunk);
    const payloads = got.map((p) => ('data' in p ? p.data : Buffer.alloc(0)));
    // The chunk is reused by the socket's owner: the copies keep their bytes, in order, and the
    // views (the payloads over 100 bytes) show what the chunk now holds. (Told by behaviour, not
    // by comparing ArrayBuffers: a small copy may come from the same pool as the chunk.)
    const expected = sizes.flatMap((size, i) => [Buffer.alloc(size, 0x30 + i), Buffer.alloc(size, 0x61 + i), Buffer.alloc(size, 0x41 + i)]);
    for (const [k, data] of payloads.entries()) expect(data, `payload ${k} before`).toEqual(expected[k]);
    chunk.fill(0xee);
    for (const [k, data] of payloads.entries()) {
      const length = (expected[k] as Buffer).length;
      expect(data, `payload ${k}`).toEqual(length <= 100 ? expected[k] : Buffer.alloc(length, 0xee));
    }
  });
});
