import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareUtf8 } from '../../../src/mapreduce/shuffle/encoding.ts';
import { compareEncoded, orderValue } from '../../../src/mapreduce/shuffle/key-order.ts';
import { mulberry32 } from '../../helpers/random.ts';

/** The test vectors of docs/WIRE.md ("Order"), in order: the block between the two markers. */
function wireVectors(): string[] {
  const doc = readFileSync('docs/WIRE.md', 'utf8');
  const start = doc.indexOf('<!-- order-vectors -->');
  const end = doc.indexOf('<!-- /order-vectors -->');
  const block = doc.slice(start, end).split('\n').filter((l) => !l.startsWith('<!--') && !l.startsWith('```') && l !== '');
  return block;
}

function pythonSort(keys: string[]): string[] {
  const out = execFileSync('python3', ['test/helpers/natural-order.py'], { input: `${keys.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.split('\n').filter((l) => l !== '');
}

function shuffled<T>(list: T[], random: () => number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

const CHARS = ['a', 'b', 'B', ' ', '!', '"', '\\', '\t', '\n', '\u0000', '\u007f', 'é', '東', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}', '\ud800', '\udc00'];

function randomValue(random: () => number, depth = 0): unknown {
  const r = random();
  if (r < 0.05) return null;
  if (r < 0.1) return random() < 0.5;
  if (r < 0.35) {
    const kinds = [() => Math.floor(random() * 25) - 5, () => (random() - 0.5) * 1e6, () => random() * 1e-3, () => 10 ** Math.floor(random() * 30)];
    return (kinds[Math.floor(random() * kinds.length)] as () => number)();
  }
  if (r < 0.7 || depth > 2) {
    let s = '';
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++) s += CHARS[Math.floor(random() * CHARS.length)];
    return s;
  }
  if (r < 0.9) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 3); i > 0; i--) o[['a', 'b', 'é', 'ab', '1'][Math.floor(random() * 5)] as string] = randomValue(random, depth + 1);
  return o;
}

describe('natural key order', () => {
  it('sorts the test vectors of docs/WIRE.md into their documented order', () => {
    const vectors = wireVectors();
    expect(vectors.length).toBeGreaterThan(25);
    expect(vectors).toContain('["buy",10]');
    const random = mulberry32(5);
    for (let i = 0; i < 20; i++) expect(shuffled(vectors, random).sort(compareEncoded)).toEqual(vectors);
  });

  it('puts ["buy",1] < ["buy",2] < ["buy",10] and numbers 0..23 in numeric order', () => {
    expect(['["buy",10]', '["buy",2]', '["buy",1]'].sort(compareEncoded)).toEqual(['["buy",1]', '["buy",2]', '["buy",10]']);
    const hours = Array.from({ length: 24 }, (_, h) => String(h));
    expect([...hours].sort(compareEncoded)).toEqual(hours);
    expect([...hours].sort()).not.toEqual(hours);
  });

  it('agrees with a python3 implementation of the documented order on the vectors and on random keys', () => {
    const vectors = wireVectors();
    expect(pythonSort(shuffled(vectors, mulberry32(9)))).toEqual(vectors);
    const random = mulberry32(11);
    const keys = new Set<string>();
    while (keys.size < 3000) keys.add(JSON.stringify(randomValue(random)));
    // Texts equal by value but not by bytes: the byte tie-break decides.
    for (const k of ['1.0', '1e0', '"\\u0041"', '-0', '[1.0,"x"]', '{"b":1,"a":2}', '{"a":2,"b":1}']) keys.add(k);
    const list = shuffled([...keys], random);
    const ours = [...list].sort(compareEncoded);
    expect(pythonSort(list)).toEqual(ours);
  });

  it('is a total order consistent with byte equality', () => {
    const random = mulberry32(3);
    const keys = Array.from({ length: 300 }, () => JSON.stringify(randomValue(random)));
    for (const a of keys.slice(0, 60)) {
      for (const b of keys) {
        const ab = compareEncoded(a, b);
        expect(compareEncoded(b, a)).toBe(ab === 0 ? 0 : -ab);
        expect(ab === 0).toBe(a === b);
      }
    }
  });

  it('reads a string without escapes without parsing it, and parses anything else', () => {
    expect(orderValue('"abc"')).toBe('abc');
    expect(orderValue('"a\\tb"')).toBe('a\tb');
    expect(orderValue('[1,"x"]')).toEqual([1, 'x']);
    expect(() => orderValue('{bad')).toThrow(SyntaxError);
  });
});

describe('compareUtf8', () => {
  it('agrees with Buffer.compare of the UTF-8 bytes, lone surrogates included (as U+FFFD)', () => {
    const random = mulberry32(13);
    const pick = (): string => {
      let s = '';
      for (let i = Math.floor(random() * 5); i > 0; i--) s += CHARS[Math.floor(random() * CHARS.length)];
      return s;
    };
    for (let i = 0; i < 20000; i++) {
      const a = pick();
      const b = random() < 0.1 ? a : pick();
      expect(compareUtf8(a, b)).toBe(Buffer.compare(Buffer.from(a), Buffer.from(b)));
    }
  });
});
