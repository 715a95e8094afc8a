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
 * Compares two strings in the byte order of their UTF-8 encodings as `Buffer.from` writes them
 * (code point order, a lone surrogate counting as U+FFFD), without encoding them. JS `<` compares
 * UTF-16 code units, which agrees with that order while both differing units are below U+D800;
 * from there on the code points at the first difference are decoded and compared.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  const ca = a.charCodeAt(i);
  const cb = b.charCodeAt(i);
  if (ca < 0xd800 && cb < 0xd800) return ca < cb ? -1 : 1;
  // A shared high surrogate just before may pair with one side's unit and not the other's.
  if (i > 0 && isHigh(a.charCodeAt(i - 1))) i--;
  let pa = i;
  let pb = i;
  while (pa < a.length && pb < b.length) {
    const x = codePointAt(a, pa);
    const y = codePointAt(b, pb);
    if (x !== y) return x < y ? -1 : 1;
    pa += x > 0xffff ? 2 : 1;
    pb += y > 0xffff ? 2 : 1;
  }
  const restA = a.length - pa;
  const restB = b.length - pb;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** The code point at `i` as UTF-8 would carry it: a pair is one code point, a lone surrogate U+FFFD. */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return 0xfffd;
}

/**
 * JSON text of a key or value for the shuffle, or `undefined` when JSON cannot carry it
 * (`undefined`, a function, a symbol). Throws what JSON.stringify throws (BigInt, cycles).
 */
export function encodeJson(value: unknown): string | undefined {
  return JSON.stringify(value) as string | undefined;
}

/** One partial (or pair) record: encodedKey TAB encodedValue LF. */
export function partialLine(encodedKey: string, encodedValue: string): string {
  return `${encodedKey}\t${encodedValue}\n`;
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

  /** Appends whole lines that are already bytes (copied); more than a chunk's room travels alone. */
  writeLines(lines: Buffer): void {
    const size = lines.length;
    if (size > CHUNK_SIZE - this.pos) this.flush();
    this.bytes += size;
    if (size > CHUNK_SIZE) {
      this.sink(Buffer.from(lines));
      return;
    }
    this.pos += lines.copy(this.buf, this.pos);
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
