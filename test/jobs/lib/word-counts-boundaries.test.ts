/**
 * WordCounts where its WebAssembly scan hands over to JS (jobs/lib/word-counts.ts): a range longer
 * than one piece copied into the module's memory (words and characters across the cut), a byte
 * >= 0x80 at the start and in the middle of a word, table and arena growths in the middle of a
 * range, words longer than 8 bytes, 64 KiB and a piece, '_', "'" and mixed case, counts past 2^32
 * across a growth. The reference is Python's own Unicode data (PYTHON_WORD_COUNTER).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WordCounts } from '../../../jobs/lib/word-counts.ts';
import { Random } from '../../helpers/random.ts';
import { PYTHON_WORD_COUNTER } from '../../helpers/reference.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gmr-word-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PYTHON_COUNTS = `
import sys
text = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
${PYTHON_WORD_COUNTER}
for w, n in counts.items():
    print(w + '\\t' + str(n))
`;

/** Python's counts of `texts`, each read as a file of its own. */
function pythonCounts(...texts: Buffer[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [i, text] of texts.entries()) {
    const file = path.join(dir, `text${i}.txt`);
    writeFileSync(file, text);
    for (const line of execFileSync('python3', ['-c', PYTHON_COUNTS, file], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n')) {
      if (line === '') continue;
      const word = line.slice(0, line.lastIndexOf('\t'));
      counts.set(word, (counts.get(word) ?? 0) + Number(line.slice(line.lastIndexOf('\t') + 1)));
    }
  }
  return counts;
}

function tableCounts(table: WordCounts): Map<string, number> {
  const counts = new Map<string, number>();
  table.forEach((w, n) => counts.set(w, (counts.get(w) ?? 0) + n));
  expect(counts.size).toBe(table.size);
  return counts;
}

/** Words of 1-40 bytes from ASCII letters of both cases, digits, '_' and "'", some with a non-ASCII letter first, inside or last; `distinct` words in all. */
function vocabulary(random: Random, distinct: number): string[] {
  const ascii = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'";
  const other = ['é', 'Ü', 'ß', 'ı', 'İ', 'K', 'Σ', '日', 'ﬁ'];
  const words = new Set<string>();
  while (words.size < distinct) {
    let w = '';
    const n = 1 + random.int(random.int(4) === 0 ? 40 : 9);
    for (let k = 0; k < n; k++) w += ascii[random.int(ascii.length)];
    const high = random.int(12);
    if (high === 0) w = random.pick(other) + w;
    else if (high === 1) w = w.slice(0, n >> 1) + random.pick(other) + w.slice(n >> 1);
    else if (high === 2) w += random.pick(other);
    words.add(w);
  }
  return [...words];
}

/** Lines of words from `words` (Zipf-like: early words often), separated by what text has between words. */
function text(random: Random, words: string[], bytes: number, lineBreaks: boolean): Buffer {
  const separators = [' ', ' ', ' ', ', ', '. ', ' - ', '\t', '"', '(', ') '];
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const w = words[Math.floor(words.length * random.next() ** 3)] as string;
    const s = lineBreaks && random.int(12) === 0 ? (random.int(3) === 0 ? '\r\n' : '\n') : random.pick(separators);
    parts.push(w, s);
    length += w.length + s.length;
  }
  return Buffer.from(parts.join(''), 'utf8');
}

describe('WordCounts at the WebAssembly/JS boundary', () => {
  it('counts a range of several pieces as Python does: lines, one long line, words across the cuts', () => {
    const random = new Random(15);
    const words = vocabulary(random, 30_000);
    // 2.5 MB of lines, then 1.5 MB with no line break at all (a piece is 1 MiB, cut after a byte no word holds).
    const bytes = Buffer.concat([text(random, words, 2_500_000, true), text(random, words, 1_500_000, false)]);
    const table = new WordCounts(16); // grows its slots and arena many times in the middle of the range
    table.addBytes(bytes, 0, bytes.length);
    const expected = pythonCounts(bytes);
    expect(expected.size).toBeGreaterThan(25_000);
    expect(tableCounts(table)).toEqual(expected);
  });

  it('counts words longer than 64 KiB and longer than a piece, ASCII and not, next to short ones', () => {
    const long = 'Ab_'.repeat(30_000); // 90 kB
    const longer = "x'Y".repeat(500_000); // 1.5 MB: no byte in the piece to cut at
    const wide = 'é'.repeat(600_000); // 1.2 MB of two-byte letters: no cut inside a character
    const line = `a ${long} b ${long.toUpperCase()}\n${longer} ${longer.toLowerCase()}q ${wide} c ${'É'.repeat(600_000)}\nd ${long}_\n`;
    const bytes = Buffer.from(line, 'utf8');
    const table = new WordCounts(16);
    table.addBytes(bytes, 0, bytes.length);
    const expected = pythonCounts(bytes);
    expect(expected.get(long.toLowerCase())).toBe(2);
    expect(expected.get(wide)).toBe(2);
    expect(tableCounts(table)).toEqual(expected);
  });

  it('counts a word cut by the end of a range as two words, with a byte >= 0x80 on either side of the cut', () => {
    const bytes = Buffer.from('Hello WORLD wor\u00e9ld caf\u00e9 naïve endofrange\n\u00e9t\u00e9 Start', 'utf8');
    // Python's counts of the two sides of every cut (a cut inside a character gives U+FFFD on each side).
    const file = path.join(dir, 'cuts.txt');
    writeFileSync(file, bytes);
    const script = `
import sys, json
data = open(sys.argv[1], 'rb').read()
out = []
for cut in range(1, len(data)):
    text = data[:cut].decode('utf-8', 'replace') + '\\n' + data[cut:].decode('utf-8', 'replace')
${PYTHON_WORD_COUNTER.replace(/^/gm, '    ')}
    out.append(counts)
print(json.dumps(out))
`;
    const byCut = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, number>[];
    expect(byCut.length).toBe(bytes.length - 1);
    for (let cut = 1; cut < bytes.length; cut++) {
      const table = new WordCounts(16);
      table.addBytes(bytes, 0, cut);
      table.addBytes(bytes, cut, bytes.length);
      expect(tableCounts(table), `cut at ${cut}`).toEqual(new Map(Object.entries(byCut[cut - 1] as Record<string, number>)));
    }
  });

  it('counts the same word the same whether the ASCII scan or the regex path found it', () => {
    // Each line from the first byte >= 0x80 on goes to the regex; the same words sit before it, after it and on ASCII lines.
    const words = ['a', 'I', "it's", 'Don_t', 'abcdefgh', 'ABCDEFGHI', 'abcdXYZefgh', 'abcdXYWefgh', 'abcdefghijklm', "o'neill", '__x__', '12345678901234567'];
    const ascii = words.join(' ');
    const lines = [ascii, `\u00e9${ascii}`, `${ascii} \u00e9 ${ascii.toUpperCase()}`, `x\u00e9y ${ascii}`, ascii.toLowerCase()];
    const bytes = Buffer.from(lines.join('\n'), 'utf8');
    const table = new WordCounts(16);
    table.addBytes(bytes, 0, bytes.length);
    const expected = pythonCounts(bytes);
    expect(expected.get('abcdxyzefgh')).toBe(6);
    expect(expected.get('i')).toBe(6);
    expect(tableCounts(table)).toEqual(expected);
  });

  it('keeps counts past 2^32 through later growths of the table', () => {
    const table = new WordCounts(16);
    table.addWord('big', 2 ** 32 + 5);
    table.addWord('w', 0x7fffffff);
    const random = new Random(4);
    const words = vocabulary(random, 5000);
    const bytes = Buffer.from(`${words.join(' ')} big w BIG\n`, 'utf8');
    table.addBytes(bytes, 0, bytes.length);
    table.addWord('w', 3);
    const expected = pythonCounts(bytes);
    expect(expected.size).toBeGreaterThan(4000);
    expected.set('big', (expected.get('big') as number) + 2 ** 32 + 5);
    expected.set('w', (expected.get('w') as number) + 0x7fffffff + 3);
    expect(tableCounts(table)).toEqual(expected);
  });

  it('gives a released table\'s memory to the next table with nothing of it left, and refuses the released one', () => {
    const random = new Random(8);
    const first = new WordCounts(16);
    const big = text(random, vocabulary(random, 3000), 200_000, true);
    first.addBytes(big, 0, big.length);
    first.release();
    expect(() => first.addBytes(big, 0, big.length)).toThrow(/expected a table not yet released/);
    expect(() => first.size).toThrow(/release\(\) was called/);
    for (let round = 0; round < 3; round++) {
      const next = new WordCounts(16); // the released instance, zeroed
      const bytes = Buffer.from(`Apple banana APPLE caf\u00e9 ${'longerthaneight'.repeat(round + 1)}\n`, 'utf8');
      next.addBytes(bytes, 0, bytes.length);
      expect(tableCounts(next)).toEqual(pythonCounts(bytes));
      next.release();
    }
  });
});
