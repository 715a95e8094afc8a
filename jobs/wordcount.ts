/**
 * wordcount: how often each word occurs in the input.
 * Words as in lib/tokenize.ts (runs of Unicode letters, digits, '_' and "'", lower-cased).
 * Output: one line per word, `word<TAB>count`, in the byte order of the JSON-encoded word.
 */

import { defineJob } from 'gmr';
import { forEachWord } from './lib/tokenize.ts';

export default defineJob<string, string, number>({
  description: 'Count the occurrences of each word (letters, digits, _ and \'), case-folded; output word<TAB>count',
  map(line, ctx) {
    forEachWord(line, ctx.emit, 1);
  },
  combine: (a, b) => a + b,
  reduce(_word, counts) {
    let sum = 0;
    for (const n of counts) sum += n;
    return sum;
  },
});
