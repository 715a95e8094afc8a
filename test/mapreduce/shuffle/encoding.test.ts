import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, compareUtf8, fnv1a32, LineChunker, partitionOf } from '../../../src/mapreduce/shuffle/encoding.ts';
import { mulberry32 } from '../../helpers/random.ts';

/** FNV-1a 32 computed independently: BigInt arithmetic over Buffer.from's UTF-8 bytes. */
function fnvReference(s: string): number {
  let h = 2166136261n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 16777619n) % 2n ** 32n;
  return Number(h);
}

const ALPHABET = ['a', 'b', 'z', '~', '\u007f', 'é', 'ß', '\u07ff', '\u0800', 'ḁ', '東', '\ud7ff', '\ue000', '\uf8ff', '\ufeff', '\uffff', '😀', '𝔘', '\u{10ffff}', '\u{10000}', '"', '\\', '\t'];

function randomString(random: () => number): string {
  let s = '';
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

describe('fnv1a32', () => {
  it('matches the documented test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('"a"')).toBe(1637994474);
    expect(fnv1a32('"hello"')).toBe(3746033291);
    expect(fnv1a32('1')).toBe(873244444);
    expect(fnv1a32('"é"')).toBe(1842900217);
  });

  it('equals a BigInt reference over the UTF-8 bytes, for random strings with astral chars', () => {
    const random = mulberry32(42);
    for (let i = 0; i < 3000; i++) {
      const s = JSON.stringify(randomString(random));
      expect(fnv1a32(s)).toBe(fnvReference(s));
    }
  });

  it('counts a lone surrogate as U+FFFD, as Buffer.from does', () => {
    expect(fnv1a32('a\ud800b')).toBe(fnvReference('a\ud800b'));
    expect(fnv1a32('\udc00')).toBe(fnvReference('\udc00'));
  });

  it('partitions by hash modulo the partition count', () => {
    expect(partitionOf('"a"', 7)).toBe(1637994474 % 7);
    expect(partitionOf('"a"', 1)).toBe(0);
  });
});

describe('compareUtf8', () => {
  it('orders a surrogate pair after U+E000..U+FFFF, as UTF-8 bytes do (JS < does not)', () => {
    expect('😀' < '\uffff').toBe(true);
    expect(compareUtf8('😀', '\uffff')).toBe(1);
    expect(compareUtf8('\ue000', '\u{10000}')).toBe(-1);
    expect(compareUtf8('ab', 'abc')).toBe(-1);
    expect(compareUtf8('abc', 'abc')).toBe(0);
  });

  it('agrees with Buffer.compare of the UTF-8 bytes on random strings', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 20000; i++) {
      const a = randomString(random);
      const b = random() < 0.1 ? a : randomString(random);
      expect(compareUtf8(a, b)).toBe(Buffer.compare(Buffer.from(a), Buffer.from(b)));
    }
  });
});

describe('LineChunker', () => {
  it('packs lines into chunks of at most CHUNK_SIZE bytes, a longer line alone, nothing lost', () => {
    const chunks: Buffer[] = [];
    const chunker = new LineChunker((c) => chunks.push(c));
    const lines: string[] = [];
    const random = mulberry32(3);
    for (let i = 0; i < 40000; i++) lines.push(`${'é'.repeat(Math.floor(random() * 40))}${i}\n`);
    lines.push(`${'x'.repeat(CHUNK_SIZE + 10)}\n`, 'tail\n');
    for (const l of lines) chunker.write(l);
    chunker.flush();
    const expected = Buffer.from(lines.join(''));
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    expect(chunker.bytes).toBe(expected.length);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      if (c.length > CHUNK_SIZE) expect(c.length).toBe(CHUNK_SIZE + 11);
      expect(c[c.length - 1]).toBe(0x0a);
    }
  });
});
