/** The tests' one text generator: seeded lines of mixed words (accents, apostrophes, CJK, emoji, CRLF), and files of it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from './random.ts';

const WORDS = [
  'the', 'The', 'THE', 'of', 'and', 'a', 'I', 'ok', 'OK', 'Ok', 'end', 'map', 'reduce', 'worker', 'client',
  'gearman', 'Gearman', 'job_server', 'snake_case', '_private', 'x2', 'x86', '42', '2024', '3rd',
  "don't", "Don't", "it's", "l'été", "rock'n'roll", 'café', 'Café', 'naïve', 'naïveté', 'déjà', 'vu',
  'über', 'über_alles', 'Straße', 'ÉCOLE', 'école', 'Ünïcödé', 'données', 'São', 'Paulo', 'zebra',
  'Zebra', 'apple', 'α', 'Ωmega', '東京', '日本語', 'ſ', 'ﬁsh',
];
const SEPARATORS = [
  ' ', ' ', ' ', ' ', ', ', '. ', ' - ', ' — ', '; ', '! ', ' (', ') ', ' "', '" ', '\t', ' / ', '/', '-',
  ' 😀 ', ' 𝔘 ', '  ',
];

/**
 * `lines` lines, each ending in '\n': up to 13 words with separators, one line in five with a
 * numbered word (`word123`, so there are many distinct words), one in ten ending in '\r' (CRLF).
 */
export function generateText(seed: number, lines: number): string {
  const random = new Random(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words = random.int(14);
    let line = '';
    for (let w = 0; w < words; w++) line += random.pick(WORDS) + random.pick(SEPARATORS);
    if (random.next() < 0.2) line += `word${random.int(500)}`;
    if (random.next() < 0.1) line += '\r';
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/** Writes a small input tree: two text files (one without a final newline), a hidden and a _ file. */
export function writeCorpus(dir: string, seed = 1, lines = 400): string[] {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const a = join(dir, 'a.txt');
  const b = join(dir, 'sub', 'b.txt');
  writeFileSync(a, generateText(seed, lines));
  writeFileSync(b, generateText(seed + 1, Math.floor(lines / 2)).slice(0, -1));
  writeFileSync(join(dir, '.hidden.txt'), 'hidden words must not count\n');
  writeFileSync(join(dir, '_ignored.txt'), 'ignored words must not count\n');
  return [a, b];
}

/** Writes each `name: text` into a new temporary folder; the caller removes `dir`. */
export async function tempFiles(files: Record<string, string>): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'gmr-test-'));
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    await writeFile(p, text);
    paths.push(p);
  }
  return { dir, paths };
}
