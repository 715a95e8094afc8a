/**
 * In-mapper combining for word counts (wordcount's hot path): an open-addressing hash table keyed
 * by the lower-cased word, looked up straight from the line's characters. A word seen before costs
 * a scan and a probe, and no string allocation; only a new word is sliced out of its line.
 *
 * Words are the same as forEachWord's (tokenize.ts): maximal runs of Unicode letters, decimal
 * digits, '_' and "'", lower-cased. ASCII lines are scanned by char code; a line with a non-ASCII
 * char goes to the regex from the start of the word in progress.
 */

import { ASCII_CLASS, WORD } from './tokenize.ts';

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

export class WordCounts {
  #keys: Array<string | undefined>;
  #hashes: Uint32Array;
  #counts: Float64Array;
  #mask: number;
  #size = 0;

  constructor(capacity = 1 << 12) {
    let size = 16;
    while (size < capacity) size *= 2;
    this.#keys = new Array<string | undefined>(size).fill(undefined);
    this.#hashes = new Uint32Array(size);
    this.#counts = new Float64Array(size);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Counts every word of one line. */
  addLine(line: string): void {
    const n = line.length;
    let start = -1;
    let hash = 0;
    for (let i = 0; i < n; i++) {
      let c = line.charCodeAt(i);
      if (c >= 128) {
        this.#addRest(line, start === -1 ? i : start);
        return;
      }
      const cls = ASCII_CLASS[c] as number;
      if (cls !== 0) {
        if (start === -1) {
          start = i;
          hash = FNV_OFFSET;
        }
        if (cls === 2) c |= 0x20;
        hash = Math.imul(hash ^ c, FNV_PRIME);
      } else if (start !== -1) {
        this.#addRange(line, start, i, hash >>> 0);
        start = -1;
      }
    }
    if (start !== -1) this.#addRange(line, start, n, hash >>> 0);
  }

  /** Counts one already lower-cased word. */
  addWord(word: string, count = 1): void {
    let hash = FNV_OFFSET;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), FNV_PRIME);
    hash >>>= 0;
    let slot = hash & this.#mask;
    for (;;) {
      const key = this.#keys[slot];
      if (key === undefined) return this.#insert(slot, word, hash, count);
      if (this.#hashes[slot] === hash && key === word) {
        (this.#counts[slot] as number) += count;
        return;
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  forEach(onWord: (word: string, count: number) => void): void {
    const keys = this.#keys;
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot];
      if (key !== undefined) onWord(key, this.#counts[slot] as number);
    }
  }

  /** An ASCII word line[start, end) whose lower-cased FNV-1a hash is `hash`. */
  #addRange(line: string, start: number, end: number, hash: number): void {
    const length = end - start;
    let slot = hash & this.#mask;
    for (;;) {
      const key = this.#keys[slot];
      if (key === undefined) return this.#insert(slot, line.slice(start, end).toLowerCase(), hash, 1);
      if (this.#hashes[slot] === hash && key.length === length && sameLowerCase(key, line, start)) {
        (this.#counts[slot] as number) += 1;
        return;
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  #addRest(line: string, from: number): void {
    WORD.lastIndex = from;
    for (let m = WORD.exec(line); m !== null; m = WORD.exec(line)) this.addWord(m[0].toLowerCase());
  }

  #insert(slot: number, word: string, hash: number, count: number): void {
    // Flatten: a slice would keep its whole line (or the reader's 64 KiB block) alive.
    this.#keys[slot] = flatten(word);
    this.#hashes[slot] = hash;
    this.#counts[slot] = count;
    if (++this.#size * 2 > this.#keys.length) this.#grow();
  }

  #grow(): void {
    const keys = this.#keys;
    const hashes = this.#hashes;
    const counts = this.#counts;
    const size = keys.length * 2;
    this.#keys = new Array<string | undefined>(size).fill(undefined);
    this.#hashes = new Uint32Array(size);
    this.#counts = new Float64Array(size);
    this.#mask = size - 1;
    for (let old = 0; old < keys.length; old++) {
      const key = keys[old];
      if (key === undefined) continue;
      let slot = (hashes[old] as number) & this.#mask;
      while (this.#keys[slot] !== undefined) slot = (slot + 1) & this.#mask;
      this.#keys[slot] = key;
      this.#hashes[slot] = hashes[old] as number;
      this.#counts[slot] = counts[old] as number;
    }
  }
}

/** Is `key` equal to line[start, start + key.length) lower-cased (ASCII)? */
function sameLowerCase(key: string, line: string, start: number): boolean {
  for (let j = 0; j < key.length; j++) {
    let c = line.charCodeAt(start + j);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== key.charCodeAt(j)) return false;
  }
  return true;
}

/** A copy of a string that holds no reference to a larger parent string. */
function flatten(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
