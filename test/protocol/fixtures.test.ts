/**
 * Checks the hand-written fixtures against themselves (not against the codec): a miscounted `size`
 * or a wrong magic in test/fixtures/packets.ts would otherwise make the codec tests lie.
 */
import { describe, expect, it } from 'vitest';
import { PACKET_FIXTURES } from '../fixtures/packets.ts';

describe('packet fixtures', () => {
  it('have unique names', () => {
    const names = PACKET_FIXTURES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const f of PACKET_FIXTURES) {
    it(`${f.name}: bytes are octets, magic matches, size counts the data`, () => {
      for (const byte of f.bytes) {
        expect(Number.isInteger(byte) && byte >= 0 && byte <= 255, `byte ${byte}`).toBe(true);
      }
      const buf = Buffer.from(f.bytes);
      expect(buf.subarray(0, 4).toString('latin1')).toBe(`\0${f.magic}`);
      expect(buf.readUInt32BE(8)).toBe(buf.length - 12);
    });
  }

  it('cover every packet type 1..42', () => {
    const codes = new Set(PACKET_FIXTURES.map((f) => Buffer.from(f.bytes).readUInt32BE(4)));
    const missing: number[] = [];
    for (let code = 1; code <= 42; code++) if (!codes.has(code)) missing.push(code);
    expect(missing).toEqual([]);
  });
});
