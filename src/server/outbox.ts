/**
 * A connection's pending output. Response packets are encoded straight into a slab (no Buffer per
 * packet), and everything queued since the last flush leaves in one socket.write: with thousands
 * of small packets a second, Node's per-write stream work costs more than the job logic itself.
 *
 * Written regions of a slab are never reused (the socket may still hold them); when a slab is
 * full a new one is started. Big payloads are queued as their own chunk, never copied.
 */
import { HEADER_LENGTH, MAGIC_RES } from '../protocol/index.ts';

const SLAB_BYTES = 16 * 1024;
/** Strings up to this length are tried as ASCII in JavaScript first (handles, names, uniques). */
const ASCII_LOOP_MAX = 64;

/**
 * Writes `text` at `pos` and returns the bytes written. Short ASCII strings (every handle and
 * nearly every function name) are copied by a loop: a call into Buffer#write's UTF-8 encoder
 * costs more than the copy itself for a dozen bytes, and a job's handle is written three times.
 */
function writeText(slab: Buffer, text: string, pos: number): number {
  const length = text.length;
  if (length <= ASCII_LOOP_MAX) {
    let i = 0;
    for (; i < length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0x7f) break;
      slab[pos + i] = unit;
    }
    if (i === length) return length;
  }
  return slab.write(text, pos);
}
/**
 * A big-endian 32-bit word at `pos`, by byte stores: Buffer#writeUInt32BE is two calls with range
 * checks (about 1.3% of the server's CPU at 1000 jobs in flight, for three words a packet).
 */
function putUint32(slab: Buffer, value: number, pos: number): void {
  slab[pos] = value >>> 24;
  slab[pos + 1] = (value >>> 16) & 0xff;
  slab[pos + 2] = (value >>> 8) & 0xff;
  slab[pos + 3] = value & 0xff;
}

/** Payloads up to this size are copied by a loop: Buffer#copy of a range makes a view first, then calls TypedArray#set. */
const COPY_LOOP_MAX = 64;

/** Copies `src[start, end)` into `slab` at `pos`; returns the bytes copied. */
function copyBytes(src: Buffer, start: number, end: number, slab: Buffer, pos: number): number {
  if (end - start > COPY_LOOP_MAX) return src.copy(slab, pos, start, end);
  for (let i = start; i < end; i++) slab[pos++] = src[i] as number;
  return end - start;
}

/** Payloads at least this big are queued by reference instead of copied into the slab. */
const COPY_LIMIT = 8 * 1024;

export class Outbox {
  #slab: Buffer | undefined;
  /** Start of the part of the slab not yet handed out, and the write position. */
  #start = 0;
  #pos = 0;
  /** Chunks handed out but not yet taken (a full slab's tail, big payloads). */
  #chunks: Buffer[] = [];

  get empty(): boolean {
    return this.#pos === this.#start && this.#chunks.length === 0;
  }

  #reserve(bytes: number): Buffer {
    const slab = this.#slab;
    if (slab && this.#pos + bytes <= slab.length) return slab;
    this.#cut();
    const fresh = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
    this.#slab = fresh;
    this.#start = this.#pos = 0;
    return fresh;
  }

  /** Moves the slab's unsent bytes to the chunk list. */
  #cut(): void {
    if (this.#slab && this.#pos > this.#start) {
      this.#chunks.push(this.#slab.subarray(this.#start, this.#pos));
      this.#start = this.#pos;
    }
  }

  /**
   * Appends a RES packet: the text arguments in order (stop at the first undefined), then `data`
   * (when given) as the last argument. A UTF-16 unit is at most 3 UTF-8 bytes, which bounds the
   * space to reserve before the real size is known.
   */
  packet(code: number, data: Buffer | undefined, a?: string, b?: string, c?: string, d?: string): void {
    const big = data !== undefined && data.length >= COPY_LIMIT;
    const textBound = ((a?.length ?? 0) + (b?.length ?? 0) + (c?.length ?? 0) + (d?.length ?? 0)) * 3 + 4;
    const slab = this.#reserve(HEADER_LENGTH + textBound + (data !== undefined && !big ? data.length : 0));
    const head = this.#pos;
    let pos = head + HEADER_LENGTH;
    if (a !== undefined) {
      pos += writeText(slab, a, pos);
      if (b !== undefined) {
        slab[pos++] = 0;
        pos += writeText(slab, b, pos);
        if (c !== undefined) {
          slab[pos++] = 0;
          pos += writeText(slab, c, pos);
          if (d !== undefined) {
            slab[pos++] = 0;
            pos += writeText(slab, d, pos);
          }
        }
      }
    }
    if (data !== undefined) {
      if (a !== undefined) slab[pos++] = 0;
      if (!big) pos += copyBytes(data, 0, data.length, slab, pos);
    }
    putUint32(slab, MAGIC_RES, head);
    putUint32(slab, code, head + 4);
    putUint32(slab, pos - head - HEADER_LENGTH + (big ? data.length : 0), head + 8);
    this.#pos = pos;
    if (big) {
      this.#cut();
      this.#chunks.push(data);
    }
  }

  /**
   * Appends a RES packet of one text argument and a payload copied from `src[start, end)` (a
   * result forwarded from the worker's frame without a view of it first). Big payloads are queued
   * as a view, like packet()'s.
   */
  packetFrom(code: number, text: string, src: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length >= COPY_LIMIT) return this.packet(code, src.subarray(start, end), text);
    const slab = this.#reserve(HEADER_LENGTH + text.length * 3 + 1 + length);
    const head = this.#pos;
    let pos = head + HEADER_LENGTH;
    pos += writeText(slab, text, pos);
    slab[pos++] = 0;
    pos += copyBytes(src, start, end, slab, pos);
    putUint32(slab, MAGIC_RES, head);
    putUint32(slab, code, head + 4);
    putUint32(slab, pos - head - HEADER_LENGTH, head + 8);
    this.#pos = pos;
  }

  /** Appends bytes as they are (constant packets). */
  bytes(chunk: Buffer): void {
    const slab = this.#reserve(chunk.length);
    this.#pos += chunk.copy(slab, this.#pos);
  }

  /** Appends admin text. */
  text(text: string): void {
    const slab = this.#reserve(text.length * 3);
    this.#pos += slab.write(text, this.#pos);
  }

  /** Everything queued since the last take, in order. */
  take(): Buffer[] {
    this.#cut();
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }
}
