/**
 * invertedindex: for each word (as in wordcount), the files it appears in.
 * Output: `word<TAB>path1<TAB>path2…`, paths sorted and de-duplicated, relative to the current
 * directory when the file is under it (else absolute), as grep prints them.
 *
 * A map task reads one file's split as bytes (`mapBytes`) into a WordCounts table
 * (lib/word-counts.ts), so it finds each distinct word once, and emits (word, [path]) per distinct
 * word at teardown. The reduce merges a word's lists in one k-way pass (lib/merge-sorted.ts).
 */

import { defineJob } from 'gmr';
import { displayPath } from './lib/display-path.ts';
import { mergeSorted } from './lib/merge-sorted.ts';
import { WordCounts } from './lib/word-counts.ts';

/**
 * Lists that unionSorted made itself. Only the combiner holds them (it replaces its value with
 * the union), so appending to one in place is safe; a list a job emitted (the one shared by every
 * word of a file) is never in here and never changed.
 */
const owned = new WeakSet<string[]>();

/** A list unionSorted made: later unions may append to it in place. */
function own(list: string[]): string[] {
  owned.add(list);
  return list;
}

/**
 * Union of two sorted, de-duplicated lists; returns `a` itself when `b` adds nothing. When all of
 * `b` sorts after all of `a` (a task's files come in path order, so this is the usual case), a
 * list of its own making grows in place: a word in k files of a task costs O(k), not O(k^2).
 */
export function unionSorted(a: string[], b: string[]): string[] {
  if (a === b || b.length === 0) return a;
  if (a.length === 0) return b;
  if ((a[a.length - 1] as string) < (b[0] as string)) {
    if (!owned.has(a)) return own(a.concat(b));
    for (const x of b) a.push(x);
    return a;
  }
  let i = 0;
  let j = 0;
  const out: string[] = [];
  let added = false;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
      added = true;
    }
  }
  while (i < a.length) out.push(a[i++] as string);
  while (j < b.length) {
    out.push(b[j++] as string);
    added = true;
  }
  return added ? own(out) : a;
}

export default defineJob<string, string, string[], string[], string, WordCounts>({
  description: 'For each word, the sorted list of files it appears in; output word<TAB>path1<TAB>path2…',
  // The task's state: its word table (words of this split, each found once).
  mapSetup: (ctx) => WordCounts.forBytes(ctx.split.length),
  mapBytes(bytes, start, end, _ctx, table) {
    table.addBytes(bytes, start, end);
  },
  mapTeardown(ctx, table) {
    // One shared, never mutated list per task: every word of this split is in this one file.
    const files = [displayPath(ctx.split.path)];
    table.forEach((word) => ctx.emit(word, files));
    table.release(); // its WebAssembly memory serves the next file's table
  },
  combine: (a, b) => unionSorted(a, b),
  reduce: (_word, lists) => mergeSorted(lists),
  format: (word, files) => `${word}\t${files.join('\t')}`,
});
