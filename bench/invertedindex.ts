/**
 * bench/invertedindex: `gmr run invertedindex` on the Brown corpus copied `--copies` times (5:
 * 2,500 files, 50 MB) against a shell pipeline computing the same index with GNU parallel, mawk,
 * sort and mawk, in paired alternating rounds (bench/lib/paired.ts). Outputs must be equal.
 * `--base DIR` adds another gmr checkout (built) to the same rounds: before and after, same load.
 *
 *   npx tsx bench/invertedindex.ts [--copies 5] [--rounds 5] [--base /path/to/other/gmr] [--keep]
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, hasFlag } from './lib/args.ts';
import { brownCorpus } from './lib/brown.ts';
import { loadLine, ratios, runPaired, spread, type Series } from './lib/paired.ts';

const COPIES = Number(flag('copies', '5'));
const ROUNDS = Number(flag('rounds', '5'));
const CORES = availableParallelism();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GMR = join(ROOT, 'bin/gmr.js');
const BASE = flag('base', '');
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** word TAB file, once per (file, word). */
const INDEX_AWK = `{ $0 = tolower($0); gsub(/[^a-z0-9_']+/, " "); for (i = 1; i <= NF; i++) { k = FILENAME SUBSEP $i; if (!(k in s)) { s[k] = 1; print $i "\\t" FILENAME } } }`;
/** Sorted word TAB file lines to word TAB file1 TAB file2 …. */
// `$1 ""` compares words as strings: awk compares two numeric-looking fields as numbers ("0" == "00").
const JOIN_AWK = `BEGIN { FS = "\\t" } { k = $1 "" } k != w { if (NR > 1) print line; w = k; line = $0; next } { line = line "\\t" $2 } END { if (NR > 0) print line }`;

const normalize = (s: string): string => s.split('\n').filter((l) => l !== '').sort().join('\n');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gmr-bench-index-'));
  const brown = brownCorpus(dir);
  const input = `brown${COPIES}`;
  for (let c = 1; c <= COPIES; c++) cpSync(brown.dir, join(dir, input, String(c)), { recursive: true });
  writeFileSync(join(dir, 'index.awk'), INDEX_AWK);
  writeFileSync(join(dir, 'join.awk'), JOIN_AWK);
  let reference: string | undefined;
  const result = runPaired(
    [
      { name: `gmr run invertedindex (${CORES} workers)`, command: `node ${q(GMR)} run invertedindex --input ${input} --quiet`, cwd: dir },
      ...(BASE ? [{ name: `gmr run invertedindex (${CORES} workers) [base]`, command: `node ${q(join(BASE, 'bin/gmr.js'))} run invertedindex --input ${input} --quiet`, cwd: dir }] : []),
      {
        name: `find | parallel -j${CORES} -X mawk | sort -u | mawk`,
        command: `find ${input} -type f | parallel -j${CORES} -X mawk -f index.awk | LC_ALL=C sort -u -S 1G | mawk -f join.awk`,
        cwd: dir,
      },
    ],
    ROUNDS,
    (name, stdout) => {
      const n = normalize(stdout);
      reference ??= n;
      if (n !== reference) throw new Error(`${name}: a different index than the other tool's`);
    },
  );
  const gmr = result.series[0] as Series;
  const shell = result.series[result.series.length - 1] as Series;
  const base = BASE ? (result.series[1] as Series) : undefined;
  const cpu = (s: Series): string => spread(s.timings.map((t) => t.cpu));
  console.log(
    [
      `\ninput: ${brown.source}, ${COPIES} copies (${COPIES * brown.files.length} files)`,
      '',
      '| tool | wall s, median (min–max) | CPU s (all processes) | gmr / tool, median of rounds (min–max) |',
      '|---|---|---|---|',
      `| ${gmr.name} | ${spread(gmr.timings.map((t) => t.wall))} | ${cpu(gmr)} | 1.00× |`,
      ...(base ? [`| ${base.name} | ${spread(base.timings.map((t) => t.wall))} | ${cpu(base)} | ${spread(ratios(gmr, base))}× |`] : []),
      `| ${shell.name.replace(/\|/g, '\\|')} | ${spread(shell.timings.map((t) => t.wall))} | ${cpu(shell)} | ${spread(ratios(gmr, shell))}× |`,
      '',
      loadLine(result.loads),
    ].join('\n'),
  );
  if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
}

await main();
