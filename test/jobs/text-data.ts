/** Seeded generated text for the job tests: mixed case, accents, apostrophes, digits, CJK, emoji. */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../helpers/random.ts';

const VOCABULARY = [
  'the', 'The', 'THE', 'of', 'and', 'café', 'Café', 'naïve', 'déjà', 'vu', "don't", "Don't", "l'été",
  'über', 'Straße', 'ÉCOLE', 'école', 'snake_case', '_private', 'x86', '2024', '3rd', 'α', 'Ωmega', '東京',
  '日本語', 'ok', 'OK', 'Ok', "rock'n'roll", 'ſ', 'ﬁsh', 'naïveté', 'über_alles', 'a', 'I',
];
const SEPARATORS = [' ', ' ', ' ', ', ', '. ', ' — ', ' (', ') ', '; ', ' "', '" ', '\t', ' 😀 ', '-', '/', ' 𝔘 ', '  '];

export function generateText(seed: number, lines: number): string {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words = Math.floor(random() * 14);
    let line = '';
    for (let w = 0; w < words; w++) line += pick(VOCABULARY) + pick(SEPARATORS);
    if (random() < 0.2) line += `word${Math.floor(random() * 500)}`;
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

export async function tempFiles(files: Record<string, string>): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gmr-jobs-'));
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    await writeFile(p, text);
    paths.push(p);
  }
  return { dir, paths };
}
