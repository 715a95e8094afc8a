/**
 * bench/word-table: wordcount's map hot path alone, in one process, CPU seconds per round: a
 * WordCounts table fed Brown ×`--copies` (6: 60 MB) in 1 MiB blocks of whole lines copied into
 * one reused buffer (as a worker's reader hands them), then its partial lines written
 * (writeWordPartials, for a tree that has it). Each `--tree` (a built checkout: its dist/jobs/lib)
 * runs once per round, in turn, so the trees share the machine's state; the figure is the
 * minimum (the machine is shared), with the median. Every tree must count the same.
 *
 *   npx tsx bench/word-table.ts [--copies 6] [--rounds 9] [--tree DIR]... (default: this checkout)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './lib/args.ts';
import { brownCorpus, concatenated } from './lib/brown.ts';
import { median } from './lib/paired.ts';

interface Table {
  addBytes(bytes: Buffer, start: number, end: number): void;
  forEach(onWord: (word: string, count: number) => void): void;
}
interface Tree {
  dir: string;
  forBytes: (length: number) => Table;
  write: ((table: Table, sink: { partitions: number; write(p: number, lines: Buffer): void }) => void) | undefined;
  scan: number[];
  partials: number[];
  signature: string;
}

const COPIES = Number(flag('copies', '6'));
const ROUNDS = Number(flag('rounds', '9'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dirs = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--tree' ? [a] : []));

const cpu = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

async function load(dir: string): Promise<Tree> {
  const lib = resolve(dir, 'dist/jobs/lib');
  const { WordCounts } = (await import(join(lib, 'word-counts.js'))) as { WordCounts: { forBytes(length: number): Table } };
  const partials = join(lib, 'word-partials.js');
  const write = existsSync(partials) ? ((await import(partials)) as { writeWordPartials: Tree['write'] }).writeWordPartials : undefined;
  return { dir, forBytes: (n) => WordCounts.forBytes(n), write, scan: [], partials: [], signature: '' };
}

const trees = await Promise.all((dirs.length > 0 ? dirs : [ROOT]).map(load));
const work = mkdtempSync(join(tmpdir(), 'gmr-bench-table-'));
const brown = brownCorpus(work);
const text = readFileSync(concatenated(brown, join(brown.dir, '..', `brown${COPIES}.txt`), COPIES));
const blocks: [number, number][] = [];
for (let s = 0; s < text.length; ) {
  let e = Math.min(text.length, s + (1 << 20));
  if (e < text.length) e = text.lastIndexOf(10, e - 1) + 1;
  blocks.push([s, e]);
  s = e;
}
const block = Buffer.allocUnsafe(1 << 21);
for (let round = 0; round < ROUNDS; round++) {
  for (const tree of trees) {
    const t0 = process.cpuUsage();
    const table = tree.forBytes(text.length);
    for (const [s, e] of blocks) {
      text.copy(block, 0, s, e);
      table.addBytes(block, 0, e - s);
    }
    tree.scan.push(cpu(t0));
    let bytes = 0;
    const t1 = process.cpuUsage();
    tree.write?.(table, { partitions: 2, write: (_p, lines) => (bytes += lines.length) });
    tree.partials.push(cpu(t1));
    let words = 0;
    let total = 0;
    table.forEach((_w, n) => {
      words++;
      total += n;
    });
    tree.signature = `${words} words, ${total} in all`;
    if (tree.write !== undefined && bytes === 0) throw new Error(`${tree.dir}: writeWordPartials wrote nothing`);
  }
}
console.log(`Brown x${COPIES}, ${(text.length / 1e6).toFixed(0)} MB, ${ROUNDS} rounds; CPU s, min (median)`);
console.log('| tree | addBytes | MB per CPU-s | writeWordPartials | counted |');
console.log('|---|---|---:|---|---|');
for (const t of trees) {
  if (t.signature !== (trees[0] as Tree).signature) throw new Error(`${t.dir} counted ${t.signature}, ${(trees[0] as Tree).dir} ${(trees[0] as Tree).signature}`);
  const partials = t.write === undefined ? '–' : `${Math.min(...t.partials).toFixed(3)} (${median(t.partials).toFixed(3)})`;
  console.log(`| ${t.dir} | ${Math.min(...t.scan).toFixed(3)} (${median(t.scan).toFixed(3)}) | ${(text.length / 1e6 / Math.min(...t.scan)).toFixed(0)} | ${partials} | ${t.signature} |`);
}
rmSync(work, { recursive: true, force: true });
