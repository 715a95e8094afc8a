/**
 * The shuffle's wire contract: how map output travels to the reducers. A worker written in any
 * language that follows these rules can take part in a run.
 *
 * 1. encodedKey = JSON text of the key, encodedValue = JSON text of the value, exactly as
 *    ECMAScript `JSON.stringify` writes them: no whitespace, strings with `"` `\\` and control
 *    characters U+0000..U+001F escaped (`\t` `\n` `\r` `\b` `\f` as such, others as `\u00XX`,
 *    lower-case hex), lone surrogates as `\uDXXX`, every other character as itself (UTF-8, not
 *    `\u` escaped); numbers in the shortest round-trip form (`1`, not `1.0`); object members in
 *    insertion order. Keys group by equality of encodedKey bytes, so other languages must write
 *    the same text for the same key.
 * 2. A partial record is one line: encodedKey, one TAB (0x09), encodedValue, LF (0x0A), in UTF-8.
 *    JSON never contains a raw TAB or LF, so the first TAB splits the line unambiguously.
 * 3. Within a partition, partial lines are sorted by the UTF-8 bytes of encodedKey, compared as
 *    unsigned bytes (a shorter key that is a prefix of a longer one sorts first). Equal keys are
 *    adjacent; lines with equal keys keep their emit order.
 * 4. partition = FNV-1a 32-bit over the UTF-8 bytes of encodedKey, modulo the number of
 *    partitions: h = 2166136261; for each byte b: h = (h XOR b) * 16777619 mod 2^32.
 *    Test vectors (the encodedKey includes its JSON quotes):
 *      fnv1a32('')        = 2166136261 (0x811c9dc5)
 *      fnv1a32('"a"')     = 1637994474 (0x61a1cfea)
 *      fnv1a32('"hello"') = 3746033291 (0xdf47ee8b)
 *      fnv1a32('1')       = 873244444  (0x340ca71c)
 *      fnv1a32('"é"')     = 1842900217 (0x6dd86cf9)   (bytes 22 c3 a9 22)
 */

const FNV_OFFSET_BASIS = 2166136261;
const FNV_PRIME = 16777619;

/**
 * FNV-1a 32-bit over the UTF-8 bytes of `s`, without materializing them. A lone surrogate counts
 * as U+FFFD (what Buffer.from writes); encodedKeys never hold one (JSON.stringify escapes them).
 */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET_BASIS;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h >>> 0;
}

/** The default partition of an encoded key: fnv1a32(encodedKey) mod partitions. */
export function partitionOf(encodedKey: string, partitions: number): number {
  return fnv1a32(encodedKey) % partitions;
}

/**
 * Compares two strings in the byte order of their UTF-8 encodings (= code point order), without
 * encoding them. JS `<` compares UTF-16 code units, which agrees with code point order except when
 * a surrogate (part of a code point >= U+10000) meets a unit in U+E000..U+FFFF: there `<` puts the
 * surrogate first, UTF-8 puts it last. So at the first differing unit, units >= 0xD800 are moved:
 * U+E000..U+FFFF down by 0x800, surrogates up by 0x2000.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca += ca >= 0xe000 ? -0x800 : 0x2000;
        cb += cb >= 0xe000 ? -0x800 : 0x2000;
      }
      return ca < cb ? -1 : 1;
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/**
 * JSON text of a key or value for the shuffle, or `undefined` when JSON cannot carry it
 * (`undefined`, a function, a symbol). Throws what JSON.stringify throws (BigInt, cycles).
 */
export function encodeJson(value: unknown): string | undefined {
  return JSON.stringify(value) as string | undefined;
}

/** Partials and output travel in chunks of about this many bytes. */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Packs lines into Buffers of at most CHUNK_SIZE bytes (a single longer line travels alone), so
 * nothing builds one giant Buffer and no chunk is tiny. Each chunk handed to `sink` is owned by it.
 */
export class LineChunker {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  private pos = 0;
  /** Bytes written so far (flushed or not). */
  bytes = 0;

  constructor(private readonly sink: (chunk: Buffer) => void) {}

  /** Appends one line; it must already end with '\n'. */
  write(line: string): void {
    const room = CHUNK_SIZE - this.pos;
    // A UTF-16 unit takes at most 3 UTF-8 bytes, so a short line fits without measuring it.
    if (line.length * 3 <= room) {
      const n = this.buf.write(line, this.pos, 'utf8');
      this.pos += n;
      this.bytes += n;
      return;
    }
    const size = Buffer.byteLength(line, 'utf8');
    if (size > room) this.flush();
    this.bytes += size;
    if (size > CHUNK_SIZE) {
      this.sink(Buffer.from(line, 'utf8'));
      return;
    }
    this.pos += this.buf.write(line, this.pos, 'utf8');
  }

  /** Hands the pending bytes to the sink (a copy when the chunk is mostly empty). */
  flush(): void {
    if (this.pos === 0) return;
    const filled = this.buf.subarray(0, this.pos);
    if (this.pos < CHUNK_SIZE / 2) {
      this.sink(Buffer.from(filled));
      this.pos = 0;
      return;
    }
    this.sink(filled);
    this.buf = Buffer.allocUnsafe(CHUNK_SIZE);
    this.pos = 0;
  }
}
