/** Seeded generated text for map/reduce tests: mixed words, accents, apostrophes, CRLF, empty lines. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from './random.ts';

const WORDS = [
  'the', 'The', 'gearman', 'Gearman', 'map', 'reduce', "don't", "l'été", 'naïve', 'café', 'Straße',
  'job_server', 'x2', '42', 'über', 'Ünïcödé', 'déjà', 'vu', 'worker', 'client', 'a', 'I', "it's",
  'end', 'données', 'São', 'Paulo', 'zebra', 'Zebra', 'apple',
];
const PUNCT = [' ', ' ', ' ', ', ', '. ', ' - ', '; ', '! ', ' (', ') ', '"', ' / '];

export function generateText(seed: number, lines: number): string {
  const rand = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = Math.floor(rand() * 14);
    let line = '';
    for (let j = 0; j < n; j++) {
      line += WORDS[Math.floor(rand() * WORDS.length)] as string;
      line += PUNCT[Math.floor(rand() * PUNCT.length)] as string;
    }
    out.push(line + (rand() < 0.1 ? '\r' : ''));
  }
  return out.join('\n');
}

/** Writes a small input tree: two text files (one without a final newline), a hidden and a _ file. */
export function writeCorpus(dir: string, seed = 1, lines = 400): string[] {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const a = join(dir, 'a.txt');
  const b = join(dir, 'sub', 'b.txt');
  writeFileSync(a, `${generateText(seed, lines)}\n`);
  writeFileSync(b, generateText(seed + 1, Math.floor(lines / 2)));
  writeFileSync(join(dir, '.hidden.txt'), 'hidden words must not count\n');
  writeFileSync(join(dir, '_ignored.txt'), 'ignored words must not count\n');
  return [a, b];
}
