/**
 * A header that declares a huge size must not make the parser reserve that memory up front: one
 * peer could otherwise make a server allocate a gigabyte with 12 bytes.
 */
import { describe, expect, it } from 'vitest';
import { PacketParser } from '../../src/protocol/parser.ts';
import { packetHeader } from '../fixtures/packets.ts';

describe('PacketParser memory', () => {
  it('grows a spanning frame with the bytes that arrive, not with the declared size', () => {
    const parsers: PacketParser[] = [];
    const before = process.memoryUsage().arrayBuffers;
    // 20 peers each declaring a 256 MiB ECHO_REQ and sending 100 bytes of it.
    for (let i = 0; i < 20; i++) {
      const parser = new PacketParser({ onPacket: () => {} });
      parser.push(Buffer.concat([packetHeader(16, 256 * 1024 * 1024), Buffer.alloc(100, 1)]));
      parsers.push(parser);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(parsers.every((p) => !p.idle)).toBe(true);
    // 20 × 256 MiB would be 5 GiB; with growth on arrival it is 20 small buffers.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it('still assembles a large frame that arrives in many small chunks', () => {
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const frame = Buffer.concat([packetHeader(16, payload.length), payload]);
    const got: Buffer[] = [];
    const parser = new PacketParser({
      onPacket: (p) => {
        if (p.type === 'ECHO_REQ') got.push(Buffer.from(p.data));
      },
    });
    for (let pos = 0; pos < frame.length; pos += 4093) parser.push(frame.subarray(pos, pos + 4093));
    expect(got).toHaveLength(1);
    expect(got[0]?.equals(payload)).toBe(true);
  });
});
