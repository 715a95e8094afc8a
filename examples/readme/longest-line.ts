// longest-line.ts: the length of the longest line in each input file.
import { defineJob } from 'gmr';

export default defineJob({
  description: 'longest line length per file',
  map(line: string, ctx) {
    ctx.emit(ctx.split.path, line.length);
  },
  combine: (a: number, b: number) => Math.max(a, b),
  reduce: (_path, lengths) => Math.max(...lengths),
});
