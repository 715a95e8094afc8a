/**
 * A WordCounts table's partial records written straight from its key bytes into the task's runs
 * (MapContext.partials): one line `"word" TAB count LF` per key, no string per word.
 *
 * Every key's JSON is `"` + its UTF-8 bytes + `"` (a word holds no character JSON escapes), so the
 * partition is FNV-1a over those bytes (docs/WIRE.md rule 4) and natural key order is the order of
 * the key bytes, a prefix first (rule 3; every word byte sorts after the closing quote). The keys
 * are sorted as 64-bit numbers, their first bytes above an index, natively, then each run of ties
 * the same way on the next bytes (sortRange). '_' is stored as 0x7F and written as 0x5F.
 */

import type { PartialSink } from 'gmr';
import type { WordCounts } from './word-counts.ts';

const QUOTE = 0x22;
const TAB = 0x09;
const LF = 0x0a;
const UNDERSCORE = 0x5f;
const UNDERSCORE_STORED = 0x7f;
const FNV_OFFSET = 2166136261 | 0;
const FNV_PRIME = 16777619;
/** Runs of at most this many keys are insertion-sorted. */
const SHORT_RUN = 16;
/** Keys still tied this many bytes in are sorted by comparing bytes (no deeper recursion). */
const MAX_RADIX_DEPTH = 64;
/** A partition's lines go to the sink in writes of about this many bytes. */
const WRITE_SIZE = 1 << 20;
/** Where a 64-bit number's high 32-bit half sits in a Uint32Array view of it. */
const HIGH_HALF = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/** A key's byte as written: the stored byte, '_' restored. */
const written = (b: number): number => (b === UNDERSCORE_STORED ? UNDERSCORE : b);

export function writeWordPartials(table: WordCounts, sink: PartialSink): void {
  const n = table.size;
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  const counts = new Float64Array(n);
  let arena: Buffer = Buffer.alloc(0);
  let k = 0;
  table.forEachKey((bytes, start, length, count) => {
    arena = bytes;
    starts[k] = start;
    lengths[k] = length;
    counts[k] = count;
    k++;
  });
  const order = sortedKeys(arena, starts, lengths);

  const partitions = sink.partitions;
  const outs: Buffer[] = [];
  const used = new Array<number>(partitions).fill(0);
  for (let p = 0; p < partitions; p++) outs.push(Buffer.allocUnsafe(WRITE_SIZE));
  for (let j = 0; j < n; j++) {
    const key = order[j] as number;
    const at = starts[key] as number;
    const length = lengths[key] as number;
    const p = keyHash(arena, at, length) % partitions;
    // Quotes, tab, at most 16 digits (a count below 2^53) and LF.
    const need = length + 20;
    let out = outs[p] as Buffer;
    let pos = used[p] as number;
    if (pos + need > out.length) {
      if (pos > 0) sink.write(p, out.subarray(0, pos));
      pos = 0;
      if (need > out.length) outs[p] = out = Buffer.allocUnsafe(need);
    }
    used[p] = writeLine(out, pos, arena, at, length, counts[key] as number);
  }
  for (let p = 0; p < partitions; p++) if ((used[p] as number) > 0) sink.write(p, (outs[p] as Buffer).subarray(0, used[p]));
}

/** FNV-1a 32 over the key's JSON: its written bytes in quotes (docs/WIRE.md rule 4). */
function keyHash(arena: Buffer, at: number, length: number): number {
  let hash = Math.imul(FNV_OFFSET ^ QUOTE, FNV_PRIME);
  for (let b = at; b < at + length; b++) hash = Math.imul(hash ^ written(arena[b] as number), FNV_PRIME);
  return Math.imul(hash ^ QUOTE, FNV_PRIME) >>> 0;
}

/** `"key" TAB count LF` at out[pos]; returns the end. */
function writeLine(out: Buffer, pos: number, arena: Buffer, at: number, length: number, count: number): number {
  out[pos++] = QUOTE;
  for (let b = at; b < at + length; b++) out[pos++] = written(arena[b] as number);
  out[pos++] = QUOTE;
  out[pos++] = TAB;
  pos = writeCount(out, pos, count);
  out[pos++] = LF;
  return pos;
}

/** The decimal digits of a whole number below 2^53 (its JSON), at buf[pos]; returns the end. */
function writeCount(buf: Buffer, pos: number, count: number): number {
  let digits = 1;
  for (let x = count; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = count;
  for (let d = pos + digits - 1; d >= pos; d--) {
    buf[d] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  return pos + digits;
}

/** Key indexes in the order of their written bytes, a prefix first. */
function sortedKeys(arena: Buffer, starts: Int32Array, lengths: Int32Array): Int32Array {
  const n = starts.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const numbers = new BigUint64Array(n);
  sortRange({ arena, starts, lengths, order, numbers, halves: new Uint32Array(numbers.buffer) }, 0, n, 0);
  return order;
}

interface Keys {
  arena: Buffer;
  starts: Int32Array;
  lengths: Int32Array;
  /** Key indexes, sorted in place. */
  order: Int32Array;
  /** Scratch: one 64-bit number per key, and the same memory as 32-bit halves. */
  numbers: BigUint64Array;
  halves: Uint32Array;
}

/**
 * Sorts order[from, to), keys equal in their first `depth` bytes: as 64-bit numbers, the next
 * bytes above an index into the range (as many bytes as the index leaves room for: 6 for up to
 * 65,536 keys), natively; then each run of keys equal in those bytes the same way, deeper. Short
 * runs, and runs still tied 64 bytes in, are sorted by comparing bytes.
 */
function sortRange(keys: Keys, from: number, to: number, depth: number): void {
  const { arena, starts, lengths, order, halves } = keys;
  const n = to - from;
  if (n <= SHORT_RUN || depth >= MAX_RADIX_DEPTH) {
    sortByBytes(keys, from, to, depth);
    return;
  }
  const indexBits = Math.max(1, 32 - Math.clz32(n - 1));
  const lowBytes = (32 - indexBits) >> 3;
  for (let k = 0; k < n; k++) {
    const key = order[from + k] as number;
    const at = (starts[key] as number) + depth;
    const length = (lengths[key] as number) - depth;
    let high = 0;
    for (let b = 0; b < 4; b++) high = (high << 8) | (b < length ? written(arena[at + b] as number) : 0);
    let low = 0;
    for (let b = 4; b < 4 + lowBytes; b++) low = low * 256 + (b < length ? written(arena[at + b] as number) : 0);
    halves[2 * k + HIGH_HALF] = high >>> 0;
    halves[2 * k + 1 - HIGH_HALF] = low * 2 ** indexBits + k;
  }
  keys.numbers.subarray(0, n).sort();
  const span = 2 ** indexBits;
  const local = order.slice(from, to);
  for (let k = 0; k < n; k++) order[from + k] = local[(halves[2 * k + 1 - HIGH_HALF] as number) % span] as number;
  // Runs of keys equal in the bytes just compared: read their prefixes before a deeper call reuses the scratch.
  const runs: number[] = [];
  for (let k = 0; k < n; ) {
    const high = halves[2 * k + HIGH_HALF] as number;
    const low = Math.floor((halves[2 * k + 1 - HIGH_HALF] as number) / span);
    let j = k + 1;
    while (j < n && halves[2 * j + HIGH_HALF] === high && Math.floor((halves[2 * j + 1 - HIGH_HALF] as number) / span) === low) j++;
    if (j - k > 1) runs.push(from + k, from + j);
    k = j;
  }
  for (let r = 0; r < runs.length; r += 2) sortRange(keys, runs[r] as number, runs[r + 1] as number, depth + 4 + lowBytes);
}

/** Insertion sort of a short run (a comparison sort for a long one) by the bytes from `depth` on. */
function sortByBytes(keys: Keys, from: number, to: number, depth: number): void {
  const { arena, starts, lengths, order } = keys;
  const compare = (a: number, b: number): number => compareKeys(arena, (starts[a] as number) + depth, (lengths[a] as number) - depth, (starts[b] as number) + depth, (lengths[b] as number) - depth);
  if (to - from > SHORT_RUN) {
    order.subarray(from, to).sort(compare);
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const key = order[i] as number;
    let j = i - 1;
    while (j >= from && compare(order[j] as number, key) > 0) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = key;
  }
}

function compareKeys(arena: Buffer, a: number, aLength: number, b: number, bLength: number): number {
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const x = written(arena[a + i] as number);
    const y = written(arena[b + i] as number);
    if (x !== y) return x - y;
  }
  return aLength - bLength;
}
