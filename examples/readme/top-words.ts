// top-words.ts: the 3 most frequent words, most frequent first
import { defineJob, step, type MapContext, type ReduceContext } from 'gmr';

export default defineJob({
  steps: [
    step({
      map: (line: string, ctx: MapContext<string, number>) => line.split(/\W+/).forEach((w) => w && ctx.emit(w.toLowerCase(), 1)),
      combine: (a: number, b: number) => a + b,
      reduce: (_word: string, counts: number[]) => counts.reduce((a, b) => a + b, 0),
    }),
    step({
      map: ([word, n]: [string, number], ctx: MapContext<'all', [number, string]>) => ctx.emit('all', [n, word]),
      reduce(_all: 'all', ranked: Array<[number, string]>, ctx: ReduceContext<string, number>) {
        ranked.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
        for (const [n, word] of ranked.slice(0, 3)) ctx.emit(word, n);
      },
    }),
  ],
});
