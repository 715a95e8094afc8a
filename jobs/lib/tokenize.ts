/**
 * The word tokenizer shared by wordcount and invertedindex: words are maximal runs of Unicode
 * letters, decimal digits, '_' and "'" (`/[\p{L}\p{Nd}_']+/gu`), lower-cased with toLowerCase().
 *
 * Hot path: ASCII text is scanned by char code, one string per word (sliced, lower-cased only when
 * it holds an upper-case letter). At the first non-ASCII char the rest of the line, from the start
 * of the word in progress, goes to the regex, which gives the same words on ASCII. (An intern
 * table for repeated words was measured: no faster, the emit's Map lookup dominates.)
 */

/** A word: a maximal run of Unicode letters, decimal digits, '_' and "'" (global; reset lastIndex). */
export const WORD = /[\p{L}\p{Nd}_']+/gu;

/** 1 for ASCII word chars ([A-Za-z0-9_']), 2 for upper-case letters, 0 otherwise. */
export const ASCII_CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) ASCII_CLASS[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_CLASS[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ASCII_CLASS[c] = 2;
ASCII_CLASS[0x5f] = 1; // _
ASCII_CLASS[0x27] = 1; // '

/**
 * Calls `onWord(word, arg)` for each word of `line`, in order. `arg` is passed through so a caller
 * can hand `ctx.emit` and the value directly, without a closure per line: `forEachWord(line, ctx.emit, 1)`.
 */
export function forEachWord<T>(line: string, onWord: (word: string, arg: T) => void, arg: T): void {
  const n = line.length;
  let start = -1;
  let upper = false;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128) {
      forEachWordSlow(line, start === -1 ? i : start, onWord, arg);
      return;
    }
    const cls = ASCII_CLASS[c] as number;
    if (cls !== 0) {
      if (start === -1) start = i;
      if (cls === 2) upper = true;
    } else if (start !== -1) {
      const word = line.slice(start, i);
      onWord(upper ? word.toLowerCase() : word, arg);
      start = -1;
      upper = false;
    }
  }
  if (start !== -1) {
    const word = line.slice(start);
    onWord(upper ? word.toLowerCase() : word, arg);
  }
}

function forEachWordSlow<T>(line: string, from: number, onWord: (word: string, arg: T) => void, arg: T): void {
  WORD.lastIndex = from;
  for (let m = WORD.exec(line); m !== null; m = WORD.exec(line)) onWord(m[0].toLowerCase(), arg);
}
