/**
 * In-mapper combining for word counts (wordcount's hot path): a packed open-addressing table of
 * lower-cased words, fed with the raw bytes of a split. No string is created until output.
 *
 * Words are the same as forEachWord's (tokenize.ts): maximal runs of Unicode letters, decimal
 * digits, '_' and "'", lower-cased with toLowerCase(). The ASCII scan, the probe and the insert
 * run in WebAssembly (word-scan.wat, whose memory holds the table): a range is copied into the
 * module's memory in pieces of about 1 MiB, each cut just after an ASCII byte no word holds (so no
 * word or character is cut) and followed by a byte >= 0x80 as a sentinel; the scan classifies 16
 * bytes at a time (SIMD) and finds the words in the bit masks. At the first byte >= 0x80 the scan
 * returns; the rest of its line (within the piece), from the start of the word in progress, is
 * decoded and goes to tokenize's regex, whose words are encoded back to UTF-8 bytes and counted in
 * the same table (the module's `add`), so an ASCII word counts the same whichever path found it.
 * The scan also returns when the table or the arena must grow, which is done here. (Against the
 * same table in JS, TurboFan's best: ~2x the MB per CPU-s on Brown, docs/BENCHMARKS.md.)
 *
 * A key is stored as its bytes with every ASCII byte OR 0x20: that lower-cases A-Z and leaves
 * a-z, 0-9 and "'" as they are; '_' (0x5F) becomes 0x7F (DEL, never part of a word, so the
 * mapping is one-to-one and is undone at output); bytes >= 0x80 stay as they are. The scan needs
 * no fold table, only the OR. A slot is four int32s, one cache line per probe: the key's first four
 * stored bytes (`head`), its last four (`tail`), its length (0: empty slot) and its count. A key of
 * up to 8 bytes (most words) is decided by the slot alone; a longer one compares its bytes between
 * head and tail with the byte arena (where `starts` says). The hash mixes head, tail and length
 * (plus a hash of the middle of a longer key, four bytes a step); `hashes` keeps it for growing.
 * Counts are uint32s; before they could wrap, they are moved into a float64 carry (here, in JS).
 */

import { ASCII_CLASS, WORD } from './tokenize.ts';
import { PAGE, recycleWordScan, STOP_DONE, STOP_GROW_ARENA, STOP_GROW_TABLE, STOP_HIGH_BYTE, type WordScan, wordScan } from './word-scan.ts';

const LF = 0x0a;
/** After a piece in the module's memory: a byte no ASCII word holds, which ends scan's last word. */
const SENTINEL = 0xff;
/** CLASS[b]: 1 for an ASCII word byte ([A-Za-z0-9_']), 0 for other ASCII, 2 for b >= 0x80 (where a piece may end). */
const CLASS = new Uint8Array(256).fill(2);
for (let c = 0; c < 128; c++) CLASS[c] = ASCII_CLASS[c] === 0 ? 0 : 1;
/** A count may grow by this much before the counts move to the carry (uint32 counts). */
const COUNT_ROOM = 0xffffffff;
/**
 * forBytes: about one distinct word per this many bytes of input, within the bounds below. Brown
 * has 45k distinct words in 10 MB; a table sized for them never grows (each growth rehashes every
 * slot: measured 25% of a 10 MB task's scan), and a small file's table stays small.
 */
const BYTES_PER_WORD = 128;
const MIN_CAPACITY = 1 << 10;
const MAX_CAPACITY = 1 << 15;
/**
 * Slots are at most this full (then the table doubles): 3/4, not 1/2, as the slots a scan touches
 * are what it waits for (Brown's 45k words: 1 MiB of slots, not 2; ~10% less CPU per MB of
 * Brown, where 4 times the slots cost 20% more).
 */
const MAX_LOAD = 3 / 4;
/** addBytes copies a range into the module's memory in pieces of about this many bytes. */
const PIECE = 1 << 20;
/** Bytes past every region that the module may read or write (whole i32s past a key's end). */
const SLACK = 16;

export class WordCounts {
  readonly #wasm: WordScan;
  /** Views of the module's memory, made again whenever it grows. */
  #bytes: Buffer;
  #ints: Int32Array;
  /** Where the next region goes: regions are never freed (a grown one leaves its old bytes behind). */
  #top = 64;
  #input = 0;
  #inputLength = 0;
  #scratch = 0;
  #scratchLength = 0;
  #arenaLength = 0;
  /** Per slot: counts moved out of the slots before they could wrap (allocated when first needed). */
  #carry: Float64Array | undefined;
  /** How much every count may still grow before a spill into #carry. */
  #room = COUNT_ROOM;
  /** release() was called: the module's memory may hold another table now. */
  #released = false;

  constructor(capacity = 1 << 12) {
    let slots = 16;
    while (slots * MAX_LOAD < capacity) slots *= 2;
    this.#wasm = wordScan();
    this.#bytes = Buffer.alloc(0);
    this.#ints = new Int32Array(0);
    this.#views();
    this.#table(slots);
    this.#newArena(slots * 4, 0);
  }

  /** A table sized for a split of `length` bytes. */
  static forBytes(length: number): WordCounts {
    return new WordCounts(Math.min(MAX_CAPACITY, Math.max(MIN_CAPACITY, Math.ceil(length / BYTES_PER_WORD))));
  }

  /** Distinct words counted. */
  get size(): number {
    this.#live();
    return this.#wasm.size.value;
  }

  /** Done with this table: its WebAssembly memory goes to the next table this process makes (a table released is not used again: it throws). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    recycleWordScan(this.#wasm, this.#top);
  }

  /** Counts every word of bytes[start, end), UTF-8 text whose lines end at '\n' or at `end`. */
  addBytes(bytes: Buffer, start: number, end: number): void {
    this.#live();
    // A word and what ends it take at least 2 bytes: this call adds at most that many to a count.
    this.#reserve(Math.ceil((end - start) / 2));
    for (let from = start; from < end; ) {
      const to = end - from <= PIECE ? end : pieceEnd(bytes, from + PIECE, end);
      this.#addPiece(bytes, from, to);
      from = to;
    }
  }

  /** Counts one line of text (a convenience over addBytes). */
  addLine(line: string): void {
    const bytes = Buffer.from(line, 'utf8');
    this.addBytes(bytes, 0, bytes.length);
  }

  /** Counts one already lower-cased word `count` times. */
  addWord(word: string, count = 1): void {
    this.#live();
    if (word.length === 0) return;
    if (this.#scratchLength < word.length * 3) {
      this.#scratchLength = word.length * 3;
      this.#scratch = this.#alloc(this.#scratchLength);
    }
    const length = this.#bytes.write(word, this.#scratch, 'utf8');
    const wasm = this.#wasm;
    if (wasm.arenaUsed.value + length > wasm.arenaRoom.value) this.#growArena(length);
    this.#addCount(wasm.add(this.#scratch, length), count);
    if (wasm.size.value > wasm.limit.value) this.#grow();
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
    this.#live();
    const wasm = this.#wasm;
    const arena = this.#bytes.subarray(wasm.arena.value, wasm.arena.value + wasm.arenaUsed.value);
    const ints = this.#ints;
    const slots = wasm.slots.value >> 2;
    const starts = wasm.starts.value >> 2;
    const carry = this.#carry;
    for (let slot = 0; slot <= wasm.mask.value; slot++) {
      const o = slots + (slot << 2);
      const length = ints[o + 2] as number;
      if (length === 0) continue;
      onKey(arena, ints[starts + slot] as number, length, ((ints[o + 3] as number) >>> 0) + (carry === undefined ? 0 : (carry[slot] as number)));
    }
  }

  #live(): void {
    if (this.#released) throw new Error('WordCounts: expected a table not yet released, but release() was called on this one');
  }

  /** addBytes for a piece: copied into the module's memory with a byte >= 0x80 after it (where scan stops), then scanned. */
  #addPiece(bytes: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.#inputLength < n + 1) {
      this.#inputLength = Math.max(n + 1, Math.min(PIECE + 1, 2 * this.#inputLength));
      this.#input = this.#alloc(this.#inputLength);
    }
    const input = this.#input;
    const stop = input + n;
    bytes.copy(this.#bytes, input, start, end);
    this.#bytes[stop] = SENTINEL;
    const wasm = this.#wasm;
    for (let at = input; ; ) {
      at = wasm.scan(at, stop);
      const why = wasm.stop.value;
      if (why === STOP_DONE) return;
      if (why === STOP_HIGH_BYTE) at = this.#addRestOfLine(at, stop);
      else if (why === STOP_GROW_TABLE) this.#grow();
      else if (why === STOP_GROW_ARENA) this.#growArena(stop - at);
    }
  }

  /** The words of memory[from, the end of its line or `end`) by the Unicode regex; returns where they end. */
  #addRestOfLine(from: number, end: number): number {
    const lf = this.#bytes.subarray(from, end).indexOf(LF);
    const lineEnd = lf === -1 ? end : from + lf;
    const text = this.#bytes.toString('utf8', from, lineEnd);
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
    const ints = this.#ints;
    const slots = this.#wasm.slots.value >> 2;
    const carry = (this.#carry ??= new Float64Array(this.#wasm.mask.value + 1));
    for (let slot = 0; slot < carry.length; slot++) {
      const o = slots + (slot << 2) + 3;
      (carry[slot] as number) += (ints[o] as number) >>> 0;
      ints[o] = 0;
    }
    this.#room = COUNT_ROOM - n;
  }

  #addCount(slot: number, count: number): void {
    if (count <= 0x7fffffff) {
      this.#reserve(count);
      (this.#ints[(this.#wasm.slots.value >> 2) + (slot << 2) + 3] as number) += count;
      return;
    }
    this.#reserve(0);
    const carry = (this.#carry ??= new Float64Array(this.#wasm.mask.value + 1));
    (carry[slot] as number) += count;
  }

  /** A region of `length` bytes (and SLACK) at the top of the module's memory, zeroed; grows the memory. */
  #alloc(length: number): number {
    const at = (this.#top + 63) & ~63;
    this.#top = at + length + SLACK;
    const have = this.#wasm.memory.buffer.byteLength;
    if (this.#top > have) {
      this.#wasm.memory.grow(Math.ceil((Math.max(this.#top, have * 1.25) - have) / PAGE));
      this.#views();
    }
    return at;
  }

  #views(): void {
    const buffer = this.#wasm.memory.buffer;
    this.#bytes = Buffer.from(buffer);
    this.#ints = new Int32Array(buffer);
  }

  /** New, empty slots, starts and hashes for `slots` slots. */
  #table(slots: number): void {
    const wasm = this.#wasm;
    wasm.slots.value = this.#alloc(slots * 16);
    wasm.starts.value = this.#alloc(slots * 4);
    wasm.hashes.value = this.#alloc(slots * 4);
    wasm.mask.value = slots - 1;
    wasm.limit.value = slots * MAX_LOAD;
  }

  #newArena(length: number, keep: number): void {
    const wasm = this.#wasm;
    const from = wasm.arena.value;
    const at = this.#alloc(length);
    this.#bytes.copy(this.#bytes, at, from, from + keep);
    this.#arenaLength = length;
    wasm.arena.value = at;
    wasm.arenaRoom.value = length - 4;
  }

  /** Room in the arena for `more` bytes of keys. */
  #growArena(more: number): void {
    const used = this.#wasm.arenaUsed.value;
    this.#newArena(Math.max(this.#arenaLength * 2, used + more + 4), used);
  }

  #grow(): void {
    const wasm = this.#wasm;
    const n = (wasm.mask.value + 1) * 2;
    const oldSlots = wasm.slots.value >> 2;
    const oldStarts = wasm.starts.value >> 2;
    const oldHashes = wasm.hashes.value >> 2;
    const oldCarry = this.#carry;
    this.#table(n);
    const ints = this.#ints;
    const mask = n - 1;
    const slots = wasm.slots.value >> 2;
    const starts = wasm.starts.value >> 2;
    const hashes = wasm.hashes.value >> 2;
    const carry = oldCarry === undefined ? undefined : new Float64Array(n);
    for (let from = 0; from < n / 2; from++) {
      const o = oldSlots + (from << 2);
      if (ints[o + 2] === 0) continue;
      const hash = ints[oldHashes + from] as number;
      let slot = hash & mask;
      while (ints[slots + (slot << 2) + 2] !== 0) slot = (slot + 1) & mask;
      ints.copyWithin(slots + (slot << 2), o, o + 4);
      ints[starts + slot] = ints[oldStarts + from] as number;
      ints[hashes + slot] = hash;
      if (carry !== undefined) carry[slot] = (oldCarry as Float64Array)[from] as number;
    }
    this.#carry = carry;
  }
}

/** Where a piece of bytes[.., end) that should end near `near` ends: just after an ASCII byte no word holds, so no word or character is cut. */
function pieceEnd(bytes: Buffer, near: number, end: number): number {
  for (let i = near; i > near - PIECE / 2; i--) if (CLASS[bytes[i - 1] as number] === 0) return i;
  for (let i = near; i < end; i++) if (CLASS[bytes[i] as number] === 0) return i + 1;
  return end;
}
