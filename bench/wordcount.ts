/**
 * bench/wordcount: times, in one run on one generated corpus, `gmr run wordcount` (embedded
 * default) against the tools a user would otherwise pick on the same cores:
 *   parallel --pipepart + mawk, a single mawk, a plain Node script, and sort | uniq -c.
 * Every tool must produce the same counts (checked), and ratios are printed against gmr.
 *
 *   npx tsx bench/wordcount.ts [--mb 300] [--runs 2] [--keep]
 *
 * The corpus is ASCII so that byte-oriented tools (mawk, tr) and gmr's Unicode tokenizer agree:
 * words are runs of [A-Za-z0-9_'], lower-cased.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../test/helpers/random.ts';
import { flag, hasFlag } from './lib/args.ts';

const MB = Number(flag('mb', '300'));
const RUNS = Number(flag('runs', '2'));
const CORES = availableParallelism();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GMR = join(ROOT, 'bin/gmr.js');

async function generate(path: string, bytes: number): Promise<void> {
  const rand = mulberry32(42);
  const syll = ['ka', 'to', 're', 'mi', 'lo', 'sa', 'ne', 'ri', 'po', 'chu', 'gar', 'man', 'the', 'and', 'ing'];
  const vocab: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    let w = '';
    const n = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) w += syll[Math.floor(rand() * syll.length)];
    if (rand() < 0.1) w = w[0]?.toUpperCase() + w.slice(1);
    if (rand() < 0.02) w += "'s";
    if (rand() < 0.01) w += `_${i % 10}`;
    vocab.push(w);
  }
  const out = createWriteStream(path);
  let written = 0;
  while (written < bytes) {
    const lines: string[] = [];
    for (let l = 0; l < 2000; l++) {
      const words: string[] = [];
      const n = 5 + Math.floor(rand() * 12);
      // Zipf-like: small indexes are frequent.
      for (let k = 0; k < n; k++) words.push(vocab[Math.floor(vocab.length * rand() ** 3)] as string);
      lines.push(words.join(rand() < 0.2 ? ', ' : ' ') + (rand() < 0.1 ? '.' : ''));
    }
    const chunk = `${lines.join('\n')}\n`;
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

const MAWK_COUNT = `{ $0 = tolower($0); gsub(/[^a-z0-9_']+/, " "); for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w "\\t" c[w] }`;
const MAWK_MERGE = `BEGIN { FS = "\\t" } { c[$1] += $2 } END { for (w in c) print w "\\t" c[w] }`;

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

interface Tool {
  name: string;
  command: string;
}

function tools(corpus: string, dir: string): Tool[] {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  // Programs in files: parallel re-quotes its command, which the ' in the word class would break.
  const count = join(dir, 'count.awk');
  const merge = join(dir, 'merge.awk');
  writeFileSync(count, MAWK_COUNT);
  writeFileSync(merge, MAWK_MERGE);
  return [
    { name: `gmr run wordcount (embedded, ${CORES} workers)`, command: `node ${q(GMR)} run wordcount --input ${q(corpus)} --quiet --json 2> ${q(join(dir, 'gmr-summary.json'))}` },
    { name: `parallel --pipepart -j${CORES} + mawk`, command: `parallel --pipepart -a ${q(corpus)} --block -1 -j${CORES} mawk -f ${q(count)} | mawk -f ${q(merge)}` },
    { name: 'mawk (one process)', command: `mawk -f ${q(count)} ${q(corpus)}` },
    { name: 'node script (readline + regex + Map)', command: `node -e ${q(NODE_SCRIPT)} ${q(corpus)}` },
    { name: 'tr \\| sort \\| uniq -c', command: `tr -cs "A-Za-z0-9_'" '\\n' < ${q(corpus)} | tr A-Z a-z | LC_ALL=C sort -S 2G | uniq -c | mawk 'NF == 2 { print $2 "\\t" $1 }'` },
  ];
}

function normalize(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.length > 0)
    .sort()
    .join('\n');
}

function timeRun(command: string): { seconds: number; maxRssKb: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-c', command], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${command}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { seconds, maxRssKb: Number(lines[lines.length - 1]), stdout: r.stdout };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gmr-bench-'));
  const corpus = join(dir, 'corpus.txt');
  await generate(corpus, MB * 1e6);
  const size = statSync(corpus).size;
  execFileSync('cat', [corpus], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache
  console.log(`corpus: ${(size / 1e6).toFixed(0)} MB, ${CORES} cores, best of ${RUNS} runs`);
  const results: Array<{ name: string; seconds: number; rss: number }> = [];
  let reference: string | undefined;
  for (const tool of tools(corpus, dir)) {
    let best = { seconds: Infinity, maxRssKb: 0, stdout: '' };
    for (let i = 0; i < RUNS; i++) {
      const r = timeRun(tool.command);
      if (r.seconds < best.seconds) best = r;
    }
    const normalized = normalize(best.stdout);
    reference ??= normalized;
    if (normalized !== reference) throw new Error(`${tool.name} computed different counts`);
    results.push({ name: tool.name, seconds: best.seconds, rss: best.maxRssKb });
    console.log(`  ${tool.name}: ${best.seconds.toFixed(2)} s`);
  }
  const gmr = results[0] as { seconds: number };
  const table = [
    '| tool | wall (s) | MB/s | time vs gmr | peak RSS (MB) |',
    '|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.seconds.toFixed(2)} | ${(size / 1e6 / r.seconds).toFixed(0)} | ${(r.seconds / gmr.seconds).toFixed(2)}× | ${(r.rss / 1024).toFixed(0)} |`),
  ].join('\n');
  console.log(`\n${table}`);

  // The driver's own peak memory must not grow with the input: compare a sixth of the corpus with
  // all of it (the summary's driverMaxRssBytes is the driver process alone, not its workers).
  const small = join(dir, 'small.txt');
  writeFileSync(small, execFileSync('head', ['-c', String(Math.floor(size / 6)), corpus], { maxBuffer: 1 << 30 }));
  const driverRss = (input: string): number => {
    const out = execFileSync('node', [GMR, 'run', 'wordcount', '--input', input, '--quiet', '--json', '--output', join(dir, `out-${Date.now()}`)], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return (JSON.parse(out) as { driverMaxRssBytes: number }).driverMaxRssBytes;
  };
  const rssSmall = driverRss(small);
  const rssLarge = driverRss(corpus);
  const memory = [
    '| input | driver peak RSS (MB) |',
    '|---|---|',
    `| ${(statSync(small).size / 1e6).toFixed(0)} MB | ${(rssSmall / 1e6).toFixed(0)} |`,
    `| ${(size / 1e6).toFixed(0)} MB | ${(rssLarge / 1e6).toFixed(0)} |`,
  ].join('\n');
  console.log(`\n${memory}`);
  writeFileSync(join(ROOT, 'bench', 'last-wordcount.md'), `${table}\n\n${memory}\n`);
  if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
}

await main();
