/**
 * A WordCounts table's partial records written straight from its key bytes into the task's runs
 * (MapContext.partials): one line `"word" TAB count LF` per key, no string per word.
 *
 * Every key's JSON is `"` + its UTF-8 bytes + `"` (a word holds no character JSON escapes), so the
 * partition is FNV-1a over those bytes (docs/WIRE.md rule 4) and natural key order is the order of
 * the key bytes, a prefix first (rule 3; every word byte sorts after the closing quote). The keys
 * are sorted as 64-bit numbers, their first five bytes above a 24-bit index, natively; keys that
 * share the five bytes are then compared byte by byte. '_' is stored as 0x7F and written as 0x5F.
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
const PREFIX_BYTES = 5;
const INDEX_BITS = 24;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
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
    let hash = Math.imul(FNV_OFFSET ^ QUOTE, FNV_PRIME);
    for (let b = at; b < at + length; b++) hash = Math.imul(hash ^ written(arena[b] as number), FNV_PRIME);
    const p = (Math.imul(hash ^ QUOTE, FNV_PRIME) >>> 0) % partitions;
    // Quotes, tab, at most 16 digits (a count below 2^53) and LF.
    const need = length + 20;
    let out = outs[p] as Buffer;
    let pos = used[p] as number;
    if (pos + need > out.length) {
      if (pos > 0) sink.write(p, out.subarray(0, pos));
      pos = 0;
      if (need > out.length) outs[p] = out = Buffer.allocUnsafe(need);
    }
    out[pos++] = QUOTE;
    for (let b = at; b < at + length; b++) out[pos++] = written(arena[b] as number);
    out[pos++] = QUOTE;
    out[pos++] = TAB;
    pos = writeCount(out, pos, counts[key] as number);
    out[pos++] = LF;
    used[p] = pos;
  }
  for (let p = 0; p < partitions; p++) if ((used[p] as number) > 0) sink.write(p, (outs[p] as Buffer).subarray(0, used[p]));
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
  const byBytes = (a: number, b: number): number => compareKeys(arena, starts[a] as number, lengths[a] as number, starts[b] as number, lengths[b] as number);
  if (n > INDEX_MASK + 1) return Int32Array.from({ length: n }, (_, i) => i).sort(byBytes);
  const numbers = new BigUint64Array(n);
  const halves = new Uint32Array(numbers.buffer);
  for (let i = 0; i < n; i++) {
    const at = starts[i] as number;
    const length = lengths[i] as number;
    let high = 0;
    for (let b = 0; b < 4; b++) high = (high << 8) | (b < length ? written(arena[at + b] as number) : 0);
    const fifth = PREFIX_BYTES - 1 < length ? written(arena[at + PREFIX_BYTES - 1] as number) : 0;
    halves[2 * i + HIGH_HALF] = high >>> 0;
    halves[2 * i + 1 - HIGH_HALF] = ((fifth << INDEX_BITS) | i) >>> 0;
  }
  numbers.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = (halves[2 * i + 1 - HIGH_HALF] as number) & INDEX_MASK;
  // Runs of keys that share their first five bytes: sorted by their bytes.
  for (let i = 0; i < n; ) {
    const high = halves[2 * i + HIGH_HALF] as number;
    const fifth = (halves[2 * i + 1 - HIGH_HALF] as number) >>> INDEX_BITS;
    let j = i + 1;
    while (j < n && halves[2 * j + HIGH_HALF] === high && (halves[2 * j + 1 - HIGH_HALF] as number) >>> INDEX_BITS === fifth) j++;
    if (j - i > 1) order.subarray(i, j).sort(byBytes);
    i = j;
  }
  return order;
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
