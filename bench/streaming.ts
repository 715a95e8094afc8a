/**
 * bench/streaming: a streaming word count through gmr (mawk as mapper and as reducer, `gmr run
 * --mapper … --reducer …`) against `parallel --pipepart` with the same two mawk programs
 * (bench/wordcount.ts's), on the same cores, in paired alternating rounds (bench/lib/paired.ts),
 * on the Brown corpus concatenated `--copies` times. gmr's built-in wordcount module and one mawk
 * run alongside for scale. Every tool's counts must equal parallel's, or the bench fails.
 *
 *   npx tsx bench/streaming.ts [--copies 12] [--rounds 3] [--keep]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, hasFlag } from './lib/args.ts';
import { brownCorpus, concatenated } from './lib/brown.ts';
import { loadLine, median, ratios, runPaired, spread, timeCommand, type Command } from './lib/paired.ts';
import { MAWK_COUNT, MAWK_MERGE, normalize } from './wordcount.ts';

const COPIES = Number(flag('copies', '12'));
const ROUNDS = Number(flag('rounds', '3'));
const CORES = availableParallelism();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GMR = join(ROOT, 'bin/gmr.js');

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gmr-bench-streaming-'));
  const brown = brownCorpus(dir);
  const corpus = concatenated(brown, join(dir, `brown${COPIES}.txt`), COPIES);
  const size = statSync(corpus).size;
  const count = join(dir, 'count.awk');
  const merge = join(dir, 'merge.awk');
  writeFileSync(count, MAWK_COUNT);
  writeFileSync(merge, MAWK_MERGE);
  const streaming = `run --mapper ${q(`mawk -f ${count}`)} --reducer ${q(`mawk -f ${merge}`)} --input ${q(corpus)} --quiet`;
  const commands: Command[] = [
    { name: `gmr run --mapper mawk --reducer mawk (${CORES} workers)`, command: `node ${q(GMR)} ${streaming}` },
    { name: `parallel --pipepart -j${CORES} + mawk, mawk merge`, command: `parallel --pipepart -a ${q(corpus)} --block -1 -j${CORES} mawk -f ${q(count)} | mawk -f ${q(merge)}` },
    { name: `gmr run wordcount (module, ${CORES} workers)`, command: `node ${q(GMR)} run wordcount --input ${q(corpus)} --quiet` },
    { name: 'mawk (one process)', command: `mawk -f ${q(count)} ${q(corpus)}` },
  ];
  const reference = normalize(timeCommand(commands[1] as Command).stdout);
  console.log(`corpus: ${brown.source} x${COPIES}, ${(size / 1e6).toFixed(0)} MB; ${CORES} cores; ${ROUNDS} paired rounds`);
  const result = runPaired(commands, ROUNDS, (name, stdout) => {
    if (normalize(stdout) !== reference) throw new Error(`${name} computed different counts than parallel + mawk`);
  });
  const gmr = result.series[0];
  const rows = result.series.map((s) => {
    const vs = gmr === undefined ? '–' : `${spread(ratios(gmr, s))}×`;
    return `| ${s.name.replace(/\|/g, '\\|')} | ${spread(s.timings.map((t) => t.wall))} | ${median(s.timings.map((t) => size / 1e6 / t.wall)).toFixed(0)} | ${spread(s.timings.map((t) => t.cpu))} | ${(median(s.timings.map((t) => t.maxRssKb)) / 1024).toFixed(0)} | ${vs} |`;
  });
  const table = [
    '| tool | wall s, median (min–max) | MB/s | CPU s (all processes) | peak RSS MB | gmr streaming / tool, wall (min–max) |',
    '|---|---|---:|---|---:|---|',
    ...rows,
    '',
    loadLine(result.loads),
  ].join('\n');
  console.log(`\n${table}`);
  writeFileSync(join(ROOT, 'bench', 'last-streaming.md'), `${table}\n`);
  if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
