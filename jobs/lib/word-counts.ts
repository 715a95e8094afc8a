/**
 * In-mapper combining for word counts (wordcount's hot path): a packed open-addressing table of
 * lower-cased words, fed with the raw bytes of a split. No string is created until output.
 *
 * Words are the same as forEachWord's (tokenize.ts): maximal runs of Unicode letters, decimal
 * digits, '_' and "'", lower-cased with toLowerCase(). ASCII is scanned byte by byte with a class
 * table, with no end check inside a word (a block of whole lines ends with '\n', which stops the
 * word; a range that ends otherwise has its last bytes copied and '\n' added: ~15% less CPU per MB
 * of Brown than checking every byte); at the first byte >= 0x80 the rest of its line, from the
 * start of the word in progress, is decoded and goes to tokenize's regex, whose words are encoded
 * back to UTF-8 bytes and counted in the same table, so an ASCII word counts the same whichever
 * path found it.
 *
 * A key is stored as its bytes with every ASCII byte OR 0x20: that lower-cases A-Z and leaves
 * a-z, 0-9 and "'" as they are; '_' (0x5F) becomes 0x7F (DEL, never part of a word, so the
 * mapping is one-to-one and is undone at output); bytes >= 0x80 stay as they are. The scan needs
 * no fold table, only the OR. A slot is four int32s, one cache line per probe: the key's first four
 * stored bytes packed (`head`), its last four (`tail`), its length (0: empty slot) and its count.
 * A key of up to 8 bytes (most words) is decided by the slot alone; a longer one compares its bytes
 * between head and tail with the byte arena (where `starts` says). The hash mixes head, tail and
 * length (plus an FNV-1a of the middle bytes of a longer key), so the scan does no per-byte
 * multiply; `hashes` keeps it for growing. (Against one FNV-1a per byte and (tail, length, hash)
 * slots that compared the arena from 5 bytes on: ~15% less CPU per MB of Brown.) Counts are
 * uint32s; before they could wrap, they are moved into a float64 carry.
 */

import { ASCII_CLASS, WORD } from './tokenize.ts';

const FNV_OFFSET = 2166136261 | 0;
const FNV_PRIME = 16777619;
const LF = 0x0a;
const FOLD_BIT = 0x20;
const FOLD_4 = 0x20202020;
const UNDERSCORE_STORED = 0x7f;
/** CLASS[b]: 1 for an ASCII word byte ([A-Za-z0-9_']), 0 for other ASCII, HIGH for b >= 0x80. */
const WORD_BYTE = 1;
const HIGH = 2;
const CLASS = new Uint8Array(256).fill(HIGH);
for (let c = 0; c < 128; c++) CLASS[c] = ASCII_CLASS[c] === 0 ? 0 : WORD_BYTE;
/** A count may grow by this much before the counts move to the carry (uint32 counts). */
const COUNT_ROOM = 0xffffffff;
/**
 * forBytes: about one distinct word per this many bytes of input, within the bounds below. Brown
 * has 45k distinct words in 10 MB; a table sized for them never grows (each growth rehashes every
 * slot: measured 25% of a 10 MB task's scan), and a small file's table stays small.
 */
const BYTES_PER_WORD = 128;
const MIN_CAPACITY = 1 << 10;
const MAX_CAPACITY = 1 << 16;

export class WordCounts {
  /** Per slot: [tail, length, hash, count]; length 0 is an empty slot. */
  #slots: Int32Array;
  /** Per slot: where its key starts in the arena. */
  #starts: Int32Array;
  /** Per slot: its key's hash (read only when the table grows). */
  #hashes: Int32Array;
  /** Per slot: counts moved out of #slots before they could wrap (allocated when first needed). */
  #carry: Float64Array | undefined;
  /** Slots - 1. */
  #mask: number;
  #size = 0;
  #arena: Buffer;
  #arenaUsed = 0;
  /** How much every count may still grow before a spill into #carry. */
  #room = COUNT_ROOM;
  #scratch = Buffer.allocUnsafe(256);
  /** addBytes's copy of a range's end that has no byte after it to stop a word. */
  #lastLine = Buffer.allocUnsafe(256);

  constructor(capacity = 1 << 12) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#slots = new Int32Array(slots * 4);
    this.#starts = new Int32Array(slots);
    this.#hashes = new Int32Array(slots);
    this.#mask = slots - 1;
    this.#arena = Buffer.allocUnsafe(slots * 4);
  }

  /** A table sized for a split of `length` bytes. */
  static forBytes(length: number): WordCounts {
    return new WordCounts(Math.min(MAX_CAPACITY, Math.max(MIN_CAPACITY, Math.ceil(length / BYTES_PER_WORD))));
  }

  /** Distinct words counted. */
  get size(): number {
    return this.#size;
  }

  /** Counts every word of bytes[start, end), UTF-8 text whose lines end at '\n' or at `end`. */
  addBytes(bytes: Buffer, start: number, end: number): void {
    // A word and what ends it take at least 2 bytes: this call adds at most that many to a count.
    this.#reserve(Math.ceil((end - start) / 2));
    // #scan needs a range that ends with a byte no word holds (a block of whole lines ends with
    // '\n'); what follows the range's last such byte is scanned from a copy with a '\n' added.
    let stop = end;
    while (stop > start && CLASS[bytes[stop - 1] as number] !== 0) stop--;
    if (stop > start) this.#scan(bytes, start, stop);
    if (stop === end) return;
    const n = end - stop;
    if (this.#lastLine.length < n + 1) this.#lastLine = Buffer.allocUnsafe(n + 1);
    const copy = this.#lastLine;
    bytes.copy(copy, 0, stop, end);
    copy[n] = LF;
    this.#scan(copy, 0, n + 1);
  }

  /** addBytes for a range whose last byte is one that no word holds: a word's scan need not check for the end. */
  #scan(bytes: Buffer, start: number, end: number): void {
    const cls = CLASS;
    let i = start;
    while (i < end) {
      let c = cls[bytes[i] as number] as number;
      if (c === 0) {
        i++;
        continue;
      }
      if (c === HIGH) {
        i = this.#addRestOfLine(bytes, i, end);
        continue;
      }
      const wordStart = i;
      let tail = 0;
      do {
        tail = (tail << 8) | (bytes[i] as number);
        c = cls[bytes[++i] as number] as number;
      } while (c === WORD_BYTE);
      if (c === HIGH) {
        i = this.#addRestOfLine(bytes, wordStart, end);
        continue;
      }
      // Probe (inline: this is the hot loop).
      const length = i - wordStart;
      tail |= FOLD_4;
      const head = length <= 4 ? tail : ((bytes[wordStart] as number) << 24) | ((bytes[wordStart + 1] as number) << 16) | ((bytes[wordStart + 2] as number) << 8) | (bytes[wordStart + 3] as number) | FOLD_4;
      const hash = length <= 8 ? mix(head, tail, length) : mix(head, middleHash(bytes, wordStart + 4, i - 4, FOLD_BIT) ^ tail, length);
      const slots = this.#slots;
      const mask = this.#mask;
      for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
        const o = slot << 2;
        const l = slots[o + 2] as number;
        if (l === length && slots[o + 1] === tail && slots[o] === head && (length <= 8 || this.#sameMiddle(slot, bytes, wordStart, length))) {
          (slots[o + 3] as number)++;
          break;
        }
        if (l === 0) {
          this.#insert(slot, bytes, wordStart, length, hash, head, tail, 1, true);
          break;
        }
      }
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
    if (length === 0) return;
    let tail = FOLD_4;
    for (let j = 0; j < length; j++) {
      let b = bytes[j] as number;
      if (b < 0x80) bytes[j] = b |= FOLD_BIT;
      tail = (tail << 8) | b;
    }
    const head = length <= 4 ? tail : ((bytes[0] as number) << 24) | ((bytes[1] as number) << 16) | ((bytes[2] as number) << 8) | (bytes[3] as number);
    const hash = length <= 8 ? mix(head, tail, length) : mix(head, middleHash(bytes, 4, length - 4, 0) ^ tail, length);
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const o = slot << 2;
      const l = slots[o + 2] as number;
      if (l === 0) return this.#insert(slot, bytes, 0, length, hash, head, tail, count, false);
      if (l !== length || slots[o + 1] !== tail || slots[o] !== head) continue;
      const at = this.#starts[slot] as number;
      if (length <= 8 || this.#arena.compare(bytes, 4, length - 4, at + 4, at + length - 4) === 0) return this.#addCount(slot, count);
    }
  }

  /** Every word and its count, in table order; the word strings are made here. */
  forEach(onWord: (word: string, count: number) => void): void {
    this.forEachKey((arena, start, length, count) => {
      const stored = arena.toString('utf8', start, start + length);
      onWord(stored.indexOf('\x7f') === -1 ? stored : stored.replaceAll('\x7f', '_'), count);
    });
  }

  /** Every key as its stored bytes (arena[start, start + length), see the header) and its count, in table order. */
  forEachKey(onKey: (arena: Buffer, start: number, length: number, count: number) => void): void {
    const arena = this.#arena;
    const slots = this.#slots;
    const starts = this.#starts;
    const carry = this.#carry;
    for (let slot = 0, o = 0; o < slots.length; slot++, o += 4) {
      const length = slots[o + 2] as number;
      if (length === 0) continue;
      onKey(arena, starts[slot] as number, length, ((slots[o + 3] as number) >>> 0) + (carry === undefined ? 0 : (carry[slot] as number)));
    }
  }

  /** Are the arena's key bytes of `slot` after its head and before its tail equal to those of bytes[start, start + length) stored (OR 0x20)? */
  #sameMiddle(slot: number, bytes: Buffer, start: number, length: number): boolean {
    const arena = this.#arena;
    const at = this.#starts[slot] as number;
    for (let j = 4; j < length - 4; j++) if (arena[at + j] !== ((bytes[start + j] as number) | FOLD_BIT)) return false;
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

  /** Makes room for every count to grow by `n`: moves the counts into the carry when they could wrap. */
  #reserve(n: number): void {
    if (n <= this.#room) {
      this.#room -= n;
      return;
    }
    const slots = this.#slots;
    const carry = (this.#carry ??= new Float64Array(slots.length / 4));
    for (let slot = 0, o = 0; o < slots.length; slot++, o += 4) {
      (carry[slot] as number) += (slots[o + 3] as number) >>> 0;
      slots[o + 3] = 0;
    }
    this.#room = COUNT_ROOM - n;
  }

  #addCount(slot: number, count: number): void {
    if (count <= 0x7fffffff) {
      this.#reserve(count);
      (this.#slots[(slot << 2) + 3] as number) += count;
      return;
    }
    this.#reserve(0);
    const carry = (this.#carry ??= new Float64Array(this.#slots.length / 4));
    (carry[slot] as number) += count;
  }

  #insert(slot: number, bytes: Buffer, start: number, length: number, hash: number, head: number, tail: number, count: number, fold: boolean): void {
    if (this.#arenaUsed + length > this.#arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#arenaUsed + length));
      this.#arena.copy(grown, 0, 0, this.#arenaUsed);
      this.#arena = grown;
    }
    const at = this.#arenaUsed;
    const arena = this.#arena;
    if (fold) for (let j = 0; j < length; j++) arena[at + j] = (bytes[start + j] as number) | FOLD_BIT;
    else bytes.copy(arena, at, start, start + length);
    this.#arenaUsed += length;
    const o = slot << 2;
    const slots = this.#slots;
    slots[o] = head;
    slots[o + 1] = tail;
    slots[o + 2] = length;
    slots[o + 3] = 0;
    this.#starts[slot] = at;
    this.#hashes[slot] = hash;
    this.#size++;
    this.#addCount(slot, count);
    if (this.#size * 2 > this.#mask) this.#grow(); // load factor 1/2
  }

  #grow(): void {
    const old = this.#slots;
    const oldStarts = this.#starts;
    const oldHashes = this.#hashes;
    const oldCarry = this.#carry;
    const n = (this.#mask + 1) * 2;
    const mask = n - 1;
    const slots = new Int32Array(n * 4);
    const starts = new Int32Array(n);
    const hashes = new Int32Array(n);
    const carry = oldCarry === undefined ? undefined : new Float64Array(n);
    for (let from = 0, o = 0; o < old.length; from++, o += 4) {
      if (old[o + 2] === 0) continue;
      const hash = oldHashes[from] as number;
      let slot = hash & mask;
      while (slots[(slot << 2) + 2] !== 0) slot = (slot + 1) & mask;
      slots.set(old.subarray(o, o + 4), slot << 2);
      starts[slot] = oldStarts[from] as number;
      hashes[slot] = hash;
      if (carry !== undefined) carry[slot] = (oldCarry as Float64Array)[from] as number;
    }
    this.#slots = slots;
    this.#starts = starts;
    this.#hashes = hashes;
    this.#carry = carry;
    this.#mask = mask;
  }
}

/** A key's 32-bit hash from its head, tail (with the middle's hash mixed in when it has one) and length. */
function mix(head: number, tail: number, length: number): number {
  let h = Math.imul(head, 0x9e3779b1) ^ Math.imul(tail ^ length, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae3d);
  return h ^ (h >>> 13);
}

/** FNV-1a over bytes[from, to), each byte OR `fold`. */
function middleHash(bytes: Buffer, from: number, to: number, fold: number): number {
  let hash = FNV_OFFSET;
  for (let j = from; j < to; j++) hash = Math.imul(hash ^ ((bytes[j] as number) | fold), FNV_PRIME);
  return hash;
}
