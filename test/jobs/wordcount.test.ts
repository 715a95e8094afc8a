import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import wordcount from '../../jobs/wordcount.ts';
import { compareUtf8 } from '../../src/mapreduce/shuffle/encoding.ts';
import { runGmr } from '../helpers/gmr-cli.ts';
import { parseTsv, runLocal } from '../helpers/run-local.ts';
import { generateText, tempFiles } from '../helpers/corpus.ts';

const PROSE = 'test/fixtures/text/prose.txt';

/** Reference: Perl's own Unicode regex and lc, independent of our tokenizer. */
function perlWordcount(files: string[]): Map<string, string> {
  const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $c{lc $1}++ } END { print "$_\\t$c{$_}\\n" for keys %c }';
  return parseTsv(execFileSync('perl', ['-CSDA', '-ne', script, ...files], { encoding: 'utf8' }));
}

let cleanup: string | undefined;
afterEach(async () => {
  if (cleanup !== undefined) await rm(cleanup, { recursive: true, force: true });
  cleanup = undefined;
});

describe('wordcount', () => {
  it('matches a Perl reference on a real text', async () => {
    const run = await runLocal(wordcount, [PROSE], { splitsPerFile: 3, partitions: 2 });
    expect(run.maps.length).toBe(3);
    expect(parseTsv(run.output)).toEqual(perlWordcount([PROSE]));
    expect(parseTsv(run.output).get("didn't")).toBe('1');
    expect(parseTsv(run.output).get('hélène')).toBe('4');
  });

  it('matches a Perl reference on generated text, over several files, splits and partitions', async () => {
    const { dir, paths } = await tempFiles({ 'a.txt': generateText(1, 3000), 'b.txt': generateText(2, 1500), 'c.txt': '' });
    cleanup = dir;
    const run = await runLocal(wordcount, paths, { splitsPerFile: 3, partitions: 3, rechunk: 7000 });
    const reference = perlWordcount(paths);
    expect(reference.size).toBeGreaterThan(40);
    expect(parseTsv(run.output)).toEqual(reference);
    // Each reduce task writes its keys in the byte order of their JSON encoding.
    for (const part of run.parts) {
      const keys = part.split('\n').filter((l) => l !== '').map((l) => JSON.stringify(l.split('\t')[0]));
      expect([...keys].sort(compareUtf8)).toEqual(keys);
    }
  });

  it('gives the same output with and without the combiner', async () => {
    const { dir, paths } = await tempFiles({ 'a.txt': generateText(3, 800) });
    cleanup = dir;
    const combined = await runLocal(wordcount, paths, { partitions: 2 });
    const uncombined = await runLocal({ ...wordcount, combine: undefined }, paths, { partitions: 2 });
    expect(uncombined.output).toBe(combined.output);
    // wordcount combines in the mapper (one pair per distinct word per map task at teardown), so
    // the framework's combiner has nothing left to merge: the reducers see as many values either way,
    // and far fewer than there are words.
    const values = (r: typeof combined): number => r.reduces.reduce((n, x) => n + x.values, 0);
    expect(values(uncombined)).toBe(values(combined));
    const words = generateText(3, 800).match(/[\p{L}\p{Nd}_']+/gu)?.length ?? 0;
    expect(values(combined)).toBeLessThan(words / 2);
  });

  it('gmr run --json counts the input lines as records (mapBytes hands over blocks of many lines)', async () => {
    const { dir, paths } = await tempFiles({ 'a.txt': generateText(4, 5000), 'b.txt': 'last line without a newline\nsecond' });
    cleanup = dir;
    const lines = Number(execFileSync('python3', ['-c', 'import sys; print(sum(len(open(p, "rb").read().splitlines()) for p in sys.argv[1:]))', ...paths], { encoding: 'utf8' }));
    const r = await runGmr(['run', 'wordcount', '--input', paths.join(','), '--workers', '2', '--reducers', '2', '--split-size', '20k', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as { records: number; mapTasks: number };
    expect(summary.mapTasks).toBeGreaterThan(2);
    expect(summary.records).toBe(lines);
  });
});
