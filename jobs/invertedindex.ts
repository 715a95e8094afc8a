/**
 * invertedindex: for each word (as in wordcount), the files it appears in.
 * Output: `word<TAB>path1<TAB>path2…`, paths sorted and de-duplicated, relative to the current
 * directory when the file is under it (else absolute), as grep prints them.
 */

import { defineJob } from 'gmr';
import type { TaskContext } from 'gmr';
import { displayPath } from './lib/display-path.ts';
import { forEachWord } from './lib/tokenize.ts';

/** The one-element path list each map task emits as its value (shared, never mutated). */
const paths = new WeakMap<TaskContext, string[]>();

/** Union of two sorted, de-duplicated lists; returns `a` itself when `b` adds nothing. */
export function unionSorted(a: string[], b: string[]): string[] {
  if (a === b) return a;
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
  return added ? out : a;
}

export default defineJob<string, string, string[]>({
  description: 'For each word, the sorted list of files it appears in; output word<TAB>path1<TAB>path2…',
  setup(ctx) {
    if ('emit' in ctx) paths.set(ctx, [displayPath(ctx.split.path)]);
  },
  map(line, ctx) {
    const value = paths.get(ctx) ?? [displayPath(ctx.split.path)];
    forEachWord(line, ctx.emit, value);
  },
  combine: (a, b) => unionSorted(a, b),
  reduce(_word, lists) {
    let all: string[] = [];
    for (const list of lists) all = unionSorted(all, [...new Set(list)].sort());
    return all;
  },
  format: (word, files) => `${word}\t${files.join('\t')}`,
});
