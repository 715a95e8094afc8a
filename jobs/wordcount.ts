/**
 * wordcount: how often each word occurs in the input.
 * Words as in lib/tokenize.ts (runs of Unicode letters, digits, '_' and "'", lower-cased).
 * Output: one line per word, `word<TAB>count`, in the byte order of the JSON-encoded word.
 *
 * Byte-level map with in-mapper combining: each map task feeds its split's raw bytes (`mapBytes`)
 * to its own WordCounts table (lib/word-counts.ts, the task's state from `mapSetup`) and emits one
 * (word, count) pair per distinct word at `mapTeardown`, which is what a combiner would leave
 * anyway; no string is made per word. Counts do not depend on where a file ends, so the table
 * spans all the small files a task reads (`mapHooks: 'per-task'`) and is emitted once per task,
 * as partial records written straight from the table's bytes (lib/word-partials.ts,
 * `ctx.partials`): no string per word, and no sort of strings.
 */

import { defineJob } from 'gmr';
import { WordCounts } from './lib/word-counts.ts';
import { writeWordPartials } from './lib/word-partials.ts';

export default defineJob<string, string, number, number, string, WordCounts>({
  description: 'Count the occurrences of each word (letters, digits, _ and \'), case-folded; output word<TAB>count',
  mapHooks: 'per-task',
  // The task's bytes, all of its files' when small files share it (an older gmr has only ctx.split).
  mapSetup: (ctx) => WordCounts.forBytes(ctx.taskBytes ?? ctx.split.length),
  mapBytes(bytes, start, end, _ctx, table) {
    table.addBytes(bytes, start, end);
  },
  mapTeardown(ctx, table) {
    if (ctx.partials !== undefined) writeWordPartials(table, ctx.partials);
    else table.forEach((word, count) => ctx.emit(word, count));
    table.release(); // its WebAssembly memory serves the process's next table
  },
  combine: (a, b) => a + b,
  reduce(_word, counts) {
    let sum = 0;
    for (const n of counts) sum += n;
    return sum;
  },
});
