/**
 * The combined-string-keys fast path of the partial writer: keys sorted as numbers by their first
 * chars (sortedKeys) come out in the order a plain `<` sort gives, prefixes, ties and non-ASCII
 * included; and the partials it writes are what the general path writes.
 */
import { describe, expect, it } from 'vitest';
import { LineChunker } from '../../../src/mapreduce/shuffle/encoding.ts';
import { sortedKeys, writePartials } from '../../../src/mapreduce/task/partial-writer.ts';
import { mulberry32 } from '../../helpers/random.ts';

const byUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function randomWords(seed: number, count: number, alphabet: string): string[] {
  const rand = mulberry32(seed);
  const words = new Set<string>();
  while (words.size < count) {
    let w = '';
    const n = 1 + Math.floor(rand() * 9);
    for (let k = 0; k < n; k++) w += alphabet[Math.floor(rand() * alphabet.length)];
    words.add(w);
  }
  return [...words];
}

describe('sortedKeys', () => {
  it('sorts like < on ASCII words with shared five-char prefixes and words that are prefixes of others', () => {
    // A small alphabet: many words share their first five chars, many are prefixes of others.
    const words = randomWords(1, 5000, "ab'_9z");
    words.push('a', 'aaaaa', 'aaaaaa', 'aaaaab', '#', '~~~~~~');
    expect(sortedKeys([...words])).toEqual([...words].sort(byUnits));
  });

  it('falls back to < for keys with a char >= 0x80 anywhere in the first five', () => {
    const words = randomWords(2, 2000, 'abcé日😀');
    expect(sortedKeys([...words])).toEqual([...words].sort(byUnits));
  });

  it('gives an empty list and a single key back as they are', () => {
    expect(sortedKeys([])).toEqual([]);
    expect(sortedKeys(['x'])).toEqual(['x']);
  });
});

describe('writePartials, combined string keys', () => {
  function partials(keys: string[], partitions: number): string[] {
    const out: Buffer[][] = [];
    const chunkers: LineChunker[] = [];
    for (let p = 0; p < partitions; p++) {
      const got: Buffer[] = [];
      out.push(got);
      chunkers.push(new LineChunker((chunk) => got.push(chunk)));
    }
    const combined = new Map(keys.map((k, i) => [k, { value: i }]));
    const records = new Array<number>(partitions).fill(0);
    writePartials({ combined, lists: new Map(), other: new Map() }, { partitions, partition: undefined, chunkers, partitionRecords: records }, (e) => e as Error);
    for (const c of chunkers) c.flush();
    expect(records.reduce((a, b) => a + b, 0)).toBe(keys.length);
    return out.map((got) => Buffer.concat(got).toString('utf8'));
  }

  it('writes what the general path writes (a key with a quote sends the task there), every partition sorted', () => {
    const words = randomWords(3, 3000, 'abcdefg_\'');
    const fast = partials(words, 3);
    // The same keys plus one that needs JSON escaping: the general path, for comparison.
    const general = partials([...words, 'say "hi"'], 3).map((part) =>
      part
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('"say \\"hi'))
        .map((line) => `${line}\n`)
        .join(''),
    );
    expect(fast).toEqual(general);
    for (const part of fast) {
      const keys = part.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line.slice(0, line.indexOf('\t'))) as string);
      expect(keys).toEqual([...keys].sort(byUnits));
    }
  });
});
