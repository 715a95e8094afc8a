/**
 * wordcount: how often each word occurs in the input.
 * Words as in lib/tokenize.ts (runs of Unicode letters, digits, '_' and "'", lower-cased).
 * Output: one line per word, `word<TAB>count`, in the byte order of the JSON-encoded word.
 *
 * Byte-level map with in-mapper combining: each map task feeds its split's raw bytes (`mapBytes`)
 * to its own WordCounts table (lib/word-counts.ts) and emits one (word, count) pair per distinct
 * word at teardown, which is what a combiner would leave anyway; no string is made per word.
 */

import { defineJob } from 'gmr';
import type { TaskContext } from 'gmr';
import { WordCounts } from './lib/word-counts.ts';

const tables = new WeakMap<TaskContext, WordCounts>();

export default defineJob<string, string, number>({
  description: 'Count the occurrences of each word (letters, digits, _ and \'), case-folded; output word<TAB>count',
  setup(ctx) {
    if ('emit' in ctx) tables.set(ctx, new WordCounts());
  },
  mapBytes(bytes, start, end, ctx) {
    (tables.get(ctx) as WordCounts).addBytes(bytes, start, end);
  },
  teardown(ctx) {
    if (!('emit' in ctx)) return;
    tables.get(ctx)?.forEach((word, count) => ctx.emit(word, count));
    tables.delete(ctx);
  },
  combine: (a, b) => a + b,
  reduce(_word, counts) {
    let sum = 0;
    for (const n of counts) sum += n;
    return sum;
  },
});
