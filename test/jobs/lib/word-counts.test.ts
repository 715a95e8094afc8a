/**
 * WordCounts (wordcount's in-mapper table) counts exactly the words forEachWord yields, on ASCII,
 * mixed-case and non-ASCII lines, through many table growths; fed raw bytes by the record reader
 * (mapBytes), it counts what Python counts at every split size, multi-byte characters cut included.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSplitBlocks } from '../../../src/mapreduce/task/record-reader.ts';
import { forEachWord } from '../../../jobs/lib/tokenize.ts';
import { WordCounts } from '../../../jobs/lib/word-counts.ts';
import { generateText } from '../../helpers/corpus.ts';
import { mulberry32 } from '../../helpers/random.ts';
import { PYTHON_WORD_COUNTER } from '../../helpers/reference.ts';

function viaTokenizer(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) forEachWord(line, (w: string) => counts.set(w, (counts.get(w) ?? 0) + 1), 0);
  return counts;
}

function viaTable(lines: string[]): Map<string, number> {
  const table = new WordCounts(16);
  for (const line of lines) table.addLine(line);
  const counts = new Map<string, number>();
  table.forEach((w, n) => counts.set(w, n));
  expect(table.size).toBe(counts.size);
  return counts;
}

describe('WordCounts', () => {
  it('agrees with the tokenizer on generated text with accents, apostrophes and CRLF', () => {
    const lines = generateText(5, 3000).split('\n');
    const expected = viaTokenizer(lines);
    expect(expected.size).toBeGreaterThan(20);
    expect(viaTable(lines)).toEqual(expected);
  });

  it('agrees on thousands of distinct mixed-case words (the table grows many times)', () => {
    const rand = mulberry32(9);
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\'';
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const words: string[] = [];
      for (let j = 0; j < 12; j++) {
        let w = '';
        const n = 1 + Math.floor(rand() * 20);
        for (let k = 0; k < n; k++) w += letters[Math.floor(rand() * letters.length)];
        words.push(w);
      }
      lines.push(words.join(rand() < 0.5 ? ' ' : ', ') + (rand() < 0.05 ? ' déjà Ünï' : ''));
    }
    const expected = viaTokenizer(lines);
    expect(expected.size).toBeGreaterThan(10_000);
    expect(viaTable(lines)).toEqual(expected);
  });

  it('tells apart words of the same length, last four bytes and FNV-1a hash', () => {
    // A 32-bit FNV-1a collision with a common tail (found by a birthday search in Python): the
    // table must compare the bytes before the tail, in either case.
    const lines = ['yiijsvtail ktodoetail KTODOETAIL', 'Yiijsvtail ktodoetails ktodoetail'];
    expect(viaTable(lines)).toEqual(viaTokenizer(lines));
    expect(viaTable(lines).get('ktodoetail')).toBe(3);
  });

  it('tells apart words that share their first and last four bytes, whichever path counted them', () => {
    // A slot holds a key's first and last four bytes and its length; only the bytes between them
    // are compared in the arena. The second line starts with a non-ASCII word, so all of its words
    // go through the regex path (addWord) and must meet the same words of the ASCII lines.
    const lines = ['abcdXefgh abcdYefgh ABCDxEFGH abcdefgh abcdefg abcdeefgh', 'abcd\u00e9fgh abcdyefgh abcd\u00e8fgh abcdefgh ABCDEFG', 'abcdxefgh Abcdyefgh'];
    expect(viaTable(lines)).toEqual(
      new Map([
        ['abcdxefgh', 3],
        ['abcdyefgh', 3],
        ['abcdefgh', 2],
        ['abcdefg', 2],
        ['abcdeefgh', 1],
        ['abcd\u00e9fgh', 1],
        ['abcd\u00e8fgh', 1],
      ]),
    );
  });

  it('stops at the end of a range that ends inside a word, in ASCII and non-ASCII lines', () => {
    // The bytes after `end` are word bytes: a scan that ran past the end would count 'threefour'.
    const bytes = Buffer.from('one Two three\ncaf\u00e9 d\u00e9j\u00e0 threefour\u00e9', 'utf8');
    const table = new WordCounts(16);
    table.addBytes(bytes, 0, 'one Two thr'.length);
    table.addBytes(bytes, 'one Two thr'.length, 'one Two three'.length);
    table.addBytes(bytes, 'one Two three\n'.length, bytes.indexOf('four'));
    const counts = new Map<string, number>();
    table.forEach((w, n) => counts.set(w, n));
    expect(counts).toEqual(
      new Map([
        ['one', 1],
        ['two', 1],
        ['thr', 1],
        ['ee', 1],
        ['caf\u00e9', 1],
        ['d\u00e9j\u00e0', 1],
        ['three', 1],
      ]),
    );
  });

  it('counts words of 1 and 2 bytes the same whichever path found them', () => {
    // The second line goes through the regex path (it starts with a non-ASCII word): its short
    // keys (decided by head, tail and length alone) must meet those of the ASCII lines.
    const lines = ["a I _ ' '' a_ _a x' 'x 0 00 Ab ab", "\u00e9 a I _ ' '' a_ _a x' 'x 0 00 Ab ab", 'AB'];
    expect(viaTable(lines)).toEqual(
      new Map([
        ['a', 2],
        ['i', 2],
        ['_', 2],
        ["'", 2],
        ["''", 2],
        ['a_', 2],
        ['_a', 2],
        ["x'", 2],
        ["'x", 2],
        ['0', 2],
        ['00', 2],
        ['ab', 5],
        ['\u00e9', 1],
      ]),
    );
  });

  it("keeps '_' apart from every other byte (the table stores it as 0x7F)", () => {
    const lines = ['__init__ a_b A_B _ a\x7fb __ \'_\' don\'t', 'x_ _x x\x7f_ café_x CAFÉ_X _é'];
    expect(viaTable(lines)).toEqual(viaTokenizer(lines));
    expect(viaTable(lines).get('a_b')).toBe(2);
    expect(viaTable(lines).get('café_x')).toBe(2);
  });

  it('counts past 2^32 in one task without wrapping', () => {
    const table = new WordCounts(16);
    table.addWord('big', 2 ** 32 - 1);
    table.addWord('big', 2 ** 32 - 1);
    for (let i = 0; i < 3; i++) table.addWord('w', 0x7fffffff);
    table.addLine('big BIG w then');
    const counts = new Map<string, number>();
    table.forEach((w, n) => counts.set(w, n));
    expect(counts).toEqual(
      new Map([
        ['big', 2 * (2 ** 32 - 1) + 2],
        ['w', 3 * 0x7fffffff + 1],
        ['then', 1],
      ]),
    );
  });

  it('counts words of a line that switches to non-ASCII in the middle of a word', () => {
    expect(viaTable(['Hello wor\u00e9ld CAFÉ café hello'])).toEqual(
      new Map([
        ['hello', 2],
        ['woréld', 1],
        ['café', 2],
      ]),
    );
  });
});

/** Reference: Python's own Unicode data (PYTHON_WORD_COUNTER); invalid UTF-8 decodes to U+FFFD, as Node does. */
const PYTHON_COUNTS = `
import sys
text = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
${PYTHON_WORD_COUNTER}
for w, n in counts.items():
    print(w + '\\t' + str(n))
`;

function pythonCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of execFileSync('python3', ['-c', PYTHON_COUNTS, file], { encoding: 'utf8' }).split('\n')) {
    if (line !== '') counts.set(line.slice(0, line.indexOf('\t')), Number(line.slice(line.indexOf('\t') + 1)));
  }
  return counts;
}

function tableCounts(table: WordCounts): Map<string, number> {
  const counts = new Map<string, number>();
  table.forEach((w, n) => counts.set(w, (counts.get(w) ?? 0) + n));
  expect(counts.size).toBe(table.size);
  return counts;
}

describe('WordCounts.addBytes through the record reader', () => {
  // Non-ASCII at line starts, ends and mid-word; a word that turns ASCII when lower-cased
  // (KELVIN SIGN), one that grows (İ), invalid UTF-8 (0xff) and CRLF.
  const text = Buffer.concat([
    Buffer.from('Élan vital, CAFÉ café. wor\u00e9ld Hello\r\n\u212Aelvin kelvin KELVIN\nstraße STRASSE İstanbul\n', 'utf8'),
    Buffer.from([0x61, 0x62, 0xff, 0x63, 0x20, 0x61, 0x62, 0x63, 0x0a]),
    Buffer.from("日本語 テキスト 日本語\n\nplain ascii line it's ok\nnaïve naïve NAÏVE end", 'utf8'),
  ]);

  it('counts what Python counts at every split size, whole words only', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gmr-word-counts-'));
    try {
      const file = path.join(dir, 'text.txt');
      await writeFile(file, text);
      const expected = pythonCounts(file);
      expect(expected.get('kelvin')).toBe(3);
      expect(expected.get('naïve')).toBe(3);
      expect(expected.get('日本語')).toBe(2);
      expect(expected.get('ab')).toBe(1); // 0xff splits "ab\xffc"
      expect(expected.get('abc')).toBe(1);
      for (let splitSize = 1; splitSize <= text.length; splitSize++) {
        const tables: WordCounts[] = [];
        for (let offset = 0; offset < text.length; offset += splitSize) {
          const table = new WordCounts(16);
          const length = Math.min(splitSize, text.length - offset);
          const split = { index: 0, path: file, offset, length, compressed: false, fileSize: text.length };
          await readSplitBlocks(split, (bytes, start, end) => table.addBytes(bytes, start, end));
          tables.push(table);
        }
        const merged = new Map<string, number>();
        for (const t of tables) for (const [w, n] of tableCounts(t)) merged.set(w, (merged.get(w) ?? 0) + n);
        expect(merged, `split size ${splitSize}`).toEqual(expected);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lower-cases as toLowerCase does, final sigma included (Perl\'s lc has no final sigma)', () => {
    const line = 'ΣΊΣΥΦΟΣ Σίσυφος, ΟΔΟΣ';
    const table = new WordCounts(16);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    table.addBytes(bytes, 0, bytes.length);
    expect(tableCounts(table)).toEqual(viaTokenizer([line]));
    expect(tableCounts(table).get('σίσυφος')).toBe(2);
  });

  it('counts the same whatever the block boundaries between whole lines', () => {
    const lines = generateText(11, 400).split('\n');
    const bytes = Buffer.from(lines.join('\n'), 'utf8');
    const expected = viaTokenizer(lines);
    const rand = mulberry32(3);
    for (let round = 0; round < 20; round++) {
      const table = new WordCounts(16);
      for (let start = 0; start < bytes.length; ) {
        const newline = bytes.indexOf(0x0a, start + Math.floor(rand() * 300));
        const end = newline === -1 ? bytes.length : newline + 1;
        table.addBytes(bytes, start, end);
        start = end;
      }
      expect(tableCounts(table)).toEqual(expected);
    }
  });
});
