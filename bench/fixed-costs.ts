/**
 * bench/fixed-costs: what gmr costs beyond the work itself, in paired alternating rounds
 * (bench/lib/paired.ts):
 *   - a 20-byte input: `gmr run wordcount` and the same job as a user `.ts` module (its runs after
 *     the first, as a cron job sees it), against `node -e 0`;
 *   - the Brown corpus as its 500 files against the same bytes as one file.
 * Outputs are compared: the 500 files and the one file must give the same counts.
 * `--base DIR` adds the same commands run by another gmr checkout (built, e.g. main before a
 * change) to the same rounds, so before and after are measured under the same load. The user
 * module's compile cache is a fresh folder of the bench (GMR_CACHE_DIR): its first run is cold.
 *
 * `--only tiny` or `--only files` runs one of the two parts.
 *
 *   npx tsx bench/fixed-costs.ts [--rounds 7] [--base /path/to/other/gmr] [--only tiny|files] [--keep]
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, hasFlag } from './lib/args.ts';
import { brownCorpus, concatenated } from './lib/brown.ts';
import { loadLine, median, ratios, runPaired, spread, timeCommand, type Series, type Timing } from './lib/paired.ts';

const ROUNDS = Number(flag('rounds', '7'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GMR = join(ROOT, 'bin/gmr.js');
const BASE = flag('base', '');
const ONLY = flag('only', '');
if (ONLY !== '' && ONLY !== 'tiny' && ONLY !== 'files') throw new Error(`--only takes tiny or files, received ${ONLY}`);
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const normalize = (s: string): string => s.split('\n').filter((l) => l !== '').sort().join('\n');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gmr-bench-fixed-'));
  const tiny = join(dir, 'tiny.txt');
  writeFileSync(tiny, 'the quick brown fox\n'); // 20 bytes
  // The built-in wordcount as a user module (its own copy of the table it imports).
  const user = join(dir, 'mywordcount.ts');
  mkdirLib(dir);
  writeFileSync(user, readFileSync(join(ROOT, 'jobs/wordcount.ts'), 'utf8'));
  const gmr = (bin: string): string => `GMR_CACHE_DIR=${q(join(dir, 'cache'))} node ${q(bin)}`;
  const first = timeCommand({ name: 'user .ts, first run', command: `${gmr(GMR)} run ${q(user)} --input ${q(tiny)} --quiet` });
  // Labels: "this" is this checkout, "base" the --base one.
  const variants: Array<[string, string]> = [['', GMR], ...(BASE ? [[' [base]', join(BASE, 'bin/gmr.js')] as [string, string]] : [])];
  if (BASE) timeCommand({ name: 'user .ts, base, first run', command: `${gmr(join(BASE, 'bin/gmr.js'))} run ${q(user)} --input ${q(tiny)} --quiet` });

  const none = { series: [], loads: [] };
  const tinyRuns = ONLY === 'files' ? none : runPaired(
    [
      { name: 'node -e 0', command: 'node -e 0' },
      ...variants.flatMap(([label, bin]) => [
        { name: `gmr run wordcount (20 bytes)${label}`, command: `${gmr(bin)} run wordcount --input ${q(tiny)} --quiet` },
        { name: `gmr run ./mywordcount.ts (20 bytes, not the first run)${label}`, command: `${gmr(bin)} run ${q(user)} --input ${q(tiny)} --quiet` },
      ]),
    ],
    ROUNDS,
  );

  const brown = ONLY === 'tiny' ? undefined : brownCorpus(dir);
  const one = brown === undefined ? '' : concatenated(brown, join(dir, 'brown1.txt'), 1);
  const outputs = new Map<string, string>();
  const fileRuns = brown === undefined ? none : runPaired(
    variants.flatMap(([label, bin]) => [
      { name: `gmr run wordcount, ${brown.files.length} files${label}`, command: `${gmr(bin)} run wordcount --input ${q(brown.dir)} --quiet` },
      { name: `gmr run wordcount, the same bytes as 1 file${label}`, command: `${gmr(bin)} run wordcount --input ${q(one)} --quiet` },
    ]),
    ROUNDS,
    (name, stdout) => {
      const n = normalize(stdout);
      const other = [...outputs.values()][0];
      if (other !== undefined && other !== n) throw new Error(`${name}: counts differ between the 500 files and the one file`);
      outputs.set(name, n);
    },
  );

  const cpu = (s: Series): string => spread(s.timings.map((t) => t.cpu));
  const row = (s: Series, base: Series): string => `| ${s.name} | ${spread(s.timings.map((t) => t.wall))} | ${cpu(s)} | ${spread(ratios(s, base))}× |`;
  const [node, ...tiny2] = tinyRuns.series as Series[];
  const tinyTable = (): string[] => [
    `A user .ts module's first run (cold compile cache): ${first.wall.toFixed(2)} s.`,
    '',
    '| command | wall s, median (min–max) | CPU s (all processes) | ratio to node -e 0, median of rounds (min–max) |',
    '|---|---|---|---|',
    row(node as Series, node as Series),
    ...tiny2.map((s) => row(s, node as Series)),
    ...variants.map(([label], i) => {
      const builtin = tiny2[2 * i] as Series;
      const userSeries = tiny2[2 * i + 1] as Series;
      return `| (user .ts module / built-in${label}) | | | ${spread(ratios(userSeries, builtin))}× |`;
    }),
    '',
    loadLine(tinyRuns.loads),
    '',
    // The ratio of the medians, next to the median of the per-round ratios above.
    ...variants.map(([label], i) => {
      const builtin = tiny2[2 * i] as Series;
      const wall = (x: Series): number => median(x.timings.map((t) => t.wall));
      return `medians: gmr 20 bytes${label} / node -e 0 = ${(wall(builtin) / wall(node as Series)).toFixed(2)}`;
    }),
    '',
  ];
  const filesTable = (): string[] => [
    '| input | wall s, median (min–max) | CPU s (all processes) | ratio to one file, median of rounds (min–max) |',
    '|---|---|---|---|',
    ...variants.flatMap((_, i) => {
      const many = fileRuns.series[2 * i] as Series;
      const single = fileRuns.series[2 * i + 1] as Series;
      return [row(many, single), row(single, single)];
    }),
    '',
    // CPU of all processes is steadier than wall on a shared machine: the same ratio by CPU.
    ...variants.map((_, i) => {
      const many = fileRuns.series[2 * i] as Series;
      const single = fileRuns.series[2 * i + 1] as Series;
      const cpuRatios = many.timings.map((t, r) => t.cpu / (single.timings[r] as Timing).cpu);
      return `${many.name} / one file by CPU, median of rounds (min–max): ${spread(cpuRatios)}×`;
    }),
    '',
    loadLine(fileRuns.loads),
  ];
  console.log(`\n${[...(ONLY === 'files' ? [] : tinyTable()), ...(ONLY === 'tiny' ? [] : filesTable())].join('\n')}`);
  if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
}

/** The user module imports from './lib/' (its table, partial writer, tokenizer): copy jobs/lib beside it. */
function mkdirLib(dir: string): void {
  const lib = join(dir, 'lib');
  mkdirSync(lib, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'jobs/lib')).filter((name) => name.endsWith('.ts'))) copyFileSync(join(ROOT, 'jobs/lib', f), join(lib, f));
}

await main();
