/**
 * In-mapper combining for word counts (wordcount's hot path): a packed open-addressing table of
 * lower-cased words, fed with the raw bytes of a split. No string is created until output.
 *
 * Words are the same as forEachWord's (tokenize.ts): maximal runs of Unicode letters, decimal
 * digits, '_' and "'", lower-cased with toLowerCase(). ASCII is scanned byte by byte with a class
 * table that also folds case, hashing (FNV-1a over the lower-cased UTF-8 bytes) as it goes; a word
 * seen before costs that scan and a probe that compares bytes. At the first byte >= 0x80 the rest
 * of its line, from the start of the word in progress, is decoded and goes to tokenize's regex,
 * whose words are encoded back to UTF-8 bytes and counted in the same table, so an ASCII word
 * counts the same whichever path found it. Keys live in one byte arena. A slot is two int32s
 * (hash, entry number + 1), so a probe compares hashes within one cache line; an entry is two
 * int32s (arena start, length) and a float64 count.
 */

import { ASCII_CLASS, WORD } from './tokenize.ts';

const FNV_OFFSET = 2166136261 | 0;
const FNV_PRIME = 16777619;
const LF = 0x0a;
/** FOLD[b] for a byte b: the lower-cased byte of an ASCII word char, 0 for other ASCII, HIGH for b >= 0x80. */
const HIGH = 0xff;
const FOLD = new Uint8Array(256).fill(HIGH);
for (let c = 0; c < 128; c++) {
  const cls = ASCII_CLASS[c] as number;
  FOLD[c] = cls === 0 ? 0 : cls === 2 ? c | 0x20 : c;
}

export class WordCounts {
  /** Per slot: [hash, entry number + 1]; entry 0 is an empty slot. */
  #slots: Int32Array;
  /** Slots - 1. */
  #mask: number;
  /** Per entry: [arena start, length]. */
  #entries: Int32Array;
  #counts: Float64Array;
  #size = 0;
  #arena: Buffer;
  #arenaUsed = 0;
  #scratch = Buffer.allocUnsafe(256);

  constructor(capacity = 1 << 12) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Int32Array(slots * 2);
    this.#mask = slots - 1;
    this.#entries = new Int32Array(slots);
    this.#counts = new Float64Array(slots / 2);
    this.#arena = Buffer.allocUnsafe(slots * 4);
  }

  /** Distinct words counted. */
  get size(): number {
    return this.#size;
  }

  /** Counts every word of bytes[start, end), UTF-8 text whose lines end at '\n' or at `end`. */
  addBytes(bytes: Buffer, start: number, end: number): void {
    const fold = FOLD;
    let i = start;
    while (i < end) {
      let f = fold[bytes[i] as number] as number;
      if (f === 0) {
        i++;
        continue;
      }
      if (f === HIGH) {
        i = this.#addRestOfLine(bytes, i, end);
        continue;
      }
      const wordStart = i;
      let hash = FNV_OFFSET;
      for (;;) {
        hash = Math.imul(hash ^ f, FNV_PRIME);
        if (++i === end) break;
        f = fold[bytes[i] as number] as number;
        if (f === 0 || f === HIGH) break;
      }
      if (i < end && f === HIGH) i = this.#addRestOfLine(bytes, wordStart, end);
      else this.#addFolded(bytes, wordStart, i, hash);
    }
  }

  /** Counts every word of one line of text (a convenience over addBytes). */
  addLine(line: string): void {
    const bytes = Buffer.from(line, 'utf8');
    this.addBytes(bytes, 0, bytes.length);
  }

  /** Counts one already lower-cased word `count` times. */
  addWord(word: string, count = 1): void {
    if (this.#scratch.length < word.length * 3) this.#scratch = Buffer.allocUnsafe(word.length * 3);
    const bytes = this.#scratch;
    const length = bytes.write(word, 0, 'utf8');
    let hash = FNV_OFFSET;
    for (let j = 0; j < length; j++) hash = Math.imul(hash ^ (bytes[j] as number), FNV_PRIME);
    const slots = this.#slots;
    const entries = this.#entries;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot + 1] as number;
      if (entry === 0) return this.#insert(slot, bytes, 0, length, hash, count, false);
      if (slots[2 * slot] !== hash) continue;
      const at = entries[2 * entry - 2] as number;
      if (entries[2 * entry - 1] === length && this.#arena.compare(bytes, 0, length, at, at + length) === 0) {
        (this.#counts[entry - 1] as number) += count;
        return;
      }
    }
  }

  /** Every word and its count, in first-seen order; the word strings are made here. */
  forEach(onWord: (word: string, count: number) => void): void {
    const arena = this.#arena;
    const entries = this.#entries;
    for (let e = 0; e < this.#size; e++) {
      const start = entries[2 * e] as number;
      onWord(arena.toString('utf8', start, start + (entries[2 * e + 1] as number)), this.#counts[e] as number);
    }
  }

  /** An ASCII word bytes[start, end) whose lower-cased FNV-1a hash is `hash`. */
  #addFolded(bytes: Buffer, start: number, end: number, hash: number): void {
    const length = end - start;
    const slots = this.#slots;
    const entries = this.#entries;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot + 1] as number;
      if (entry === 0) return this.#insert(slot, bytes, start, length, hash, 1, true);
      if (slots[2 * slot] !== hash || entries[2 * entry - 1] !== length) continue;
      if (this.#sameFolded(entries[2 * entry - 2] as number, bytes, start, length)) {
        (this.#counts[entry - 1] as number) += 1;
        return;
      }
    }
  }

  /** Is the arena's key at `at` equal to bytes[start, start + length) lower-cased? */
  #sameFolded(at: number, bytes: Buffer, start: number, length: number): boolean {
    const arena = this.#arena;
    for (let j = 0; j < length; j++) if (arena[at + j] !== FOLD[bytes[start + j] as number]) return false;
    return true;
  }

  /** The words of bytes[from, end of its line) by the Unicode regex; returns where the line ends. */
  #addRestOfLine(bytes: Buffer, from: number, end: number): number {
    let lineEnd = bytes.indexOf(LF, from);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const text = bytes.toString('utf8', from, lineEnd);
    WORD.lastIndex = 0;
    for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) this.addWord(m[0].toLowerCase());
    return lineEnd;
  }

  #insert(slot: number, bytes: Buffer, start: number, length: number, hash: number, count: number, fold: boolean): void {
    if (this.#arenaUsed + length > this.#arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#arenaUsed + length));
      this.#arena.copy(grown, 0, 0, this.#arenaUsed);
      this.#arena = grown;
    }
    const at = this.#arenaUsed;
    if (fold) for (let j = 0; j < length; j++) this.#arena[at + j] = FOLD[bytes[start + j] as number] as number;
    else bytes.copy(this.#arena, at, start, start + length);
    this.#arenaUsed += length;
    const e = this.#size++;
    this.#entries[2 * e] = at;
    this.#entries[2 * e + 1] = length;
    this.#counts[e] = count;
    this.#slots[2 * slot] = hash;
    this.#slots[2 * slot + 1] = e + 1;
    if (this.#size === this.#counts.length) this.#grow(); // load factor 1/2; entries stay in bounds
  }

  #grow(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length / 2 - 1;
    for (let o = 0; o < old.length; o += 2) {
      const entry = old[o + 1] as number;
      if (entry === 0) continue;
      const hash = old[o] as number;
      let slot = hash & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = entry;
    }
    this.#slots = slots;
    this.#mask = mask;
    const entries = new Int32Array(this.#entries.length * 2);
    entries.set(this.#entries);
    this.#entries = entries;
    const counts = new Float64Array(this.#counts.length * 2);
    counts.set(this.#counts);
    this.#counts = counts;
  }
}
