/**
 * WordCounts (wordcount's in-mapper table) counts exactly the words forEachWord yields, on ASCII,
 * mixed-case and non-ASCII lines, through many table growths.
 */
import { describe, expect, it } from 'vitest';
import { forEachWord } from '../../jobs/lib/tokenize.ts';
import { WordCounts } from '../../jobs/lib/word-counts.ts';
import { generateText } from '../helpers/corpus.ts';
import { mulberry32 } from '../helpers/random.ts';

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
