/**
 * topwords: the N most frequent words (as in wordcount), most frequent first, ties broken by the
 * word (UTF-8 byte order). Params: n (default 10). Output: `word<TAB>count`, N lines at most.
 *
 * Two steps: count the words (combined in the mapper), then rank them. Step 2's map tasks each
 * keep only their own top N (state from mapSetup, emitted at mapTeardown) under one key, so its
 * reducer ranks at most N per map task, whatever the vocabulary.
 */

import { compareNatural, defineJob, step } from 'gmr';
import type { MapContext, Params, ReduceContext } from 'gmr';
import { forEachWord } from './lib/tokenize.ts';

type Ranked = [count: number, word: string];

/** More frequent first, then the word in natural (UTF-8 byte) order. */
function byRank(a: Ranked, b: Ranked): number {
  return b[0] - a[0] || compareNatural(a[1], b[1]);
}

function topCount(ctx: { params: Params }): number {
  const given = ctx.params['n'] ?? 10;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`topwords: expected --param n=<whole number >= 1>, received n=${String(given)}`);
  return n;
}

/** The best `n` of `list`, ranked (sorts in place). */
function best(list: Ranked[], n: number): Ranked[] {
  list.sort(byRank);
  if (list.length > n) list.length = n;
  return list;
}

export default defineJob({
  description: 'The --param n=10 most frequent words, most frequent first (ties by word); output word<TAB>count',
  params: {
    n: { description: 'how many words', type: 'integer', default: 10, validate: (n) => (Number(n) >= 1 ? undefined : 'expected a whole number >= 1') },
  },
  steps: [
    step({
      map(line: string, ctx: MapContext<string, number>) {
        forEachWord(line, ctx.emit, 1);
      },
      combine: (a: number, b: number) => a + b,
      reduce: (_word: string, counts: number[]) => counts.reduce((a, b) => a + b, 0),
    }),
    step({
      mapSetup: (ctx) => ({ n: topCount(ctx), candidates: [] as Ranked[] }),
      map([word, count]: [string, number], _ctx: MapContext<'top', Ranked>, state) {
        state.candidates.push([count, word]);
        if (state.candidates.length >= 4 * state.n + 64) best(state.candidates, state.n);
      },
      mapTeardown(ctx, state) {
        for (const ranked of best(state.candidates, state.n)) ctx.emit('top', ranked);
      },
      reduce(_top: 'top', candidates: Ranked[], ctx: ReduceContext<string, number>) {
        for (const [count, word] of best(candidates, topCount(ctx))) ctx.emit(word, count);
      },
    }),
  ],
});
