/**
 * A one-entry cache of a decoded text argument. A peer names the same function in packet after
 * packet (every SUBMIT_JOB of a client, every JOB_ASSIGN_UNIQ a worker gets), so when the bytes
 * equal the last ones decoded, the same string is returned: no string is made per packet, and a
 * Map lookup keyed by it reuses the hash V8 keeps on the string instead of hashing a new one.
 */

/** Longer texts are decoded every time (a name is rarely this long; the compare would cost more). */
const MAX_CACHED_BYTES = 256;

export class TextCache {
  /** A copy of the last cached text's bytes (never a view of a chunk that may be reused). */
  #bytes: Buffer = Buffer.alloc(0);
  #text = '';

  /** The UTF-8 text of `buf` from `from` to `to`, as `buf.toString('utf8', from, to)` returns it. */
  decode(buf: Buffer, from: number, to: number): string {
    const length = to - from;
    const bytes = this.#bytes;
    if (length === bytes.length) {
      let i = 0;
      while (i < length && buf[from + i] === bytes[i]) i++;
      if (i === length) return this.#text;
    }
    const text = buf.toString('utf8', from, to);
    if (length <= MAX_CACHED_BYTES) {
      this.#bytes = Buffer.from(buf.subarray(from, to));
      this.#text = text;
    }
    return text;
  }
}
