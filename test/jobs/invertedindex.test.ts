import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import invertedindex, { unionSorted } from '../../jobs/invertedindex.ts';
import { parseTsv, runLocal } from '../helpers/run-local.ts';
import { generateText, tempFiles } from '../helpers/corpus.ts';

const PROSE = 'test/fixtures/text/prose.txt';

/** Reference: Perl collects word → set of files; paths printed as given (absolute or cwd-relative). */
function perlIndex(files: string[]): Map<string, string> {
  const script =
    'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $f{lc $1}{$ARGV} = 1 } END { print "$_\\t", join("\\t", sort keys %{$f{$_}}), "\\n" for keys %f }';
  return parseTsv(execFileSync('perl', ['-CSDA', '-ne', script, ...files], { encoding: 'utf8' }));
}

let cleanup: string | undefined;
afterEach(async () => {
  if (cleanup !== undefined) await rm(cleanup, { recursive: true, force: true });
  cleanup = undefined;
});

describe('invertedindex', () => {
  it('matches a Perl reference over generated files and the prose fixture', async () => {
    const { dir, paths } = await tempFiles({
      'one.txt': generateText(11, 40),
      'two.txt': generateText(12, 400),
      'three.txt': generateText(13, 5),
    });
    cleanup = dir;
    const files = [...paths, PROSE];
    const run = await runLocal(invertedindex, files, { splitsPerFile: 2, partitions: 3, rechunk: 300 });
    const reference = perlIndex(files);
    expect(parseTsv(run.output)).toEqual(reference);
    expect(parseTsv(run.output).get('hélène')).toBe(PROSE);
  });

  it('gives the same output with and without the combiner', async () => {
    const { dir, paths } = await tempFiles({ 'a.txt': generateText(14, 300), 'b.txt': generateText(15, 300) });
    cleanup = dir;
    const combined = await runLocal(invertedindex, paths, { partitions: 2 });
    const uncombined = await runLocal({ ...invertedindex, combine: undefined }, paths, { partitions: 2 });
    expect(uncombined.output).toBe(combined.output);
  });
});

describe('unionSorted (the combiner)', () => {
  it('unions sorted lists, appends in place only to lists it made, and never changes an emitted list', () => {
    const shared = ['b.txt'];
    const first = unionSorted(['a.txt'], shared);
    expect(first).toEqual(['a.txt', 'b.txt']);
    // `first` is its own: a later file appends to it; `shared` (emitted for many words) stays as it was.
    const grown = unionSorted(first, ['c.txt']);
    expect(grown).toBe(first);
    expect(grown).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(shared).toEqual(['b.txt']);
    // An emitted list as the left side is copied, not grown.
    const left = ['a.txt'];
    expect(unionSorted(left, ['z.txt'])).toEqual(['a.txt', 'z.txt']);
    expect(left).toEqual(['a.txt']);
    // Interleaved and overlapping lists merge; nothing new gives back `a` itself.
    expect(unionSorted(['a', 'c', 'e'], ['b', 'c', 'f'])).toEqual(['a', 'b', 'c', 'e', 'f']);
    const same = ['a', 'c'];
    expect(unionSorted(same, ['c'])).toBe(same);
    expect(unionSorted(same, [])).toBe(same);
    expect(unionSorted([], same)).toBe(same);
  });
});
