/**
 * How the record reader hands a split's bytes to a map task: one string per line (LineEmitter,
 * the `map` API) or byte ranges of whole lines (BlockEmitter, the `mapBytes` API).
 *
 * Hot path (lines): only whole lines are decoded, and '\n' (0x0A) never occurs inside a UTF-8
 * multi-byte sequence, so no character is ever cut in two. Lines are decoded a block (~64 KiB of
 * whole lines) at a time: an all-ASCII block (checked with simdutf's isAscii) becomes one latin1
 * string that is cut at '\n' with String#indexOf, where a char index is a byte index; any other
 * block is retried in 2 KiB blocks, and a 2 KiB block that is not ASCII either is cut with
 * Buffer#indexOf and decoded line by line.
 * Hazard: a line cut from a block string is a V8 sliced string that keeps its block (<= 64 KiB)
 * alive while the line is retained; the block size bounds that cost.
 */

import { isAscii } from 'node:buffer';

export interface RecordPosition {
  /** 1-based, counted from the split's first record. */
  line: number;
  /** Absolute byte offset of the record's first byte in the (decompressed) file. */
  offset: number;
}

export type RecordCallback = (line: string, pos: RecordPosition) => void;

/**
 * One block of whole lines: bytes[start, end), where every line ends at a '\n' or at `end` (a
 * file's last line may lack its '\n'; a '\r' before a '\n' is kept). `offset` is the absolute file
 * offset of bytes[start]. The buffer is reused once the callback returns: copy what you keep.
 */
export type BlockCallback = (bytes: Buffer, start: number, end: number, offset: number) => void;

const LF = 0x0a;
const CR = 0x0d;
const DECODE_BLOCK = 64 * 1024;
const SMALL_DECODE_BLOCK = 2 * 1024;

/** What the record reader drives: it finds the lines a split owns, an emitter delivers them. */
export interface SplitEmitter {
  /** Records (lines) or blocks delivered so far. */
  records: number;
  /** One line buf[start, end) without its '\n' (a trailing '\r' is the emitter's business). */
  emitLine(buf: Buffer, start: number, end: number, offset: number): void;
  /**
   * Emits the lines of buf[start, end), where buf[end - 1] is '\n', up to and including the line
   * that holds index stopAt - 1 (the last line that starts before stopAt). bufOffset is the file
   * offset of buf[0]. Returns the index of the first line not emitted.
   */
  emitLines(buf: Buffer, start: number, end: number, bufOffset: number, stopAt: number): number;
}

/** Index after the '\n' that ends the line holding index stopAt - 1, or `end` (buf[end - 1] is '\n'). */
function linesEnd(buf: Buffer, end: number, stopAt: number): number {
  return stopAt < end ? buf.indexOf(LF, stopAt - 1) + 1 : end;
}

/** Counts records and hands each line, without '\n' and a trailing '\r', to the callback. */
export class LineEmitter implements SplitEmitter {
  records = 0;

  constructor(private readonly onRecord: RecordCallback) {}

  emitLine(buf: Buffer, start: number, end: number, offset: number): void {
    this.records++;
    this.onRecord(buf.toString('utf8', start, end > start && buf[end - 1] === CR ? end - 1 : end), { line: this.records, offset });
  }

  emitLines(buf: Buffer, start: number, end: number, bufOffset: number, stopAt: number, blockSize = DECODE_BLOCK): number {
    let pos = start;
    while (pos < end && pos < stopAt) {
      // A block of whole lines: up to blockSize bytes, at least one line, none past stopAt.
      const limit = Math.min(end, pos + blockSize);
      let blockEnd = stopAt < limit ? linesEnd(buf, end, stopAt) : buf.lastIndexOf(LF, limit - 1) + 1;
      if (blockEnd <= pos) blockEnd = buf.indexOf(LF, pos) + 1;
      if (isAscii(buf.subarray(pos, blockEnd))) {
        this.emitAscii(buf.toString('latin1', pos, blockEnd), bufOffset + pos);
      } else if (blockSize > SMALL_DECODE_BLOCK) {
        // A few non-ASCII lines should not send the whole block down the slow path.
        this.emitLines(buf, pos, blockEnd, bufOffset, Infinity, SMALL_DECODE_BLOCK);
      } else {
        for (let s = pos; s < blockEnd; ) {
          const newline = buf.indexOf(LF, s);
          this.emitLine(buf, s, newline, bufOffset + s);
          s = newline + 1;
        }
      }
      pos = blockEnd;
    }
    return pos;
  }

  /** Lines of an ASCII text ending in '\n', where a char index is a byte index. */
  private emitAscii(text: string, offset: number): void {
    for (let s = 0; s < text.length; ) {
      const newline = text.indexOf('\n', s);
      this.records++;
      this.onRecord(text.slice(s, newline > s && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline), {
        line: this.records,
        offset: offset + s,
      });
      s = newline + 1;
    }
  }
}

/** Hands all the whole lines it is given as one byte range; counts blocks. */
export class BlockEmitter implements SplitEmitter {
  records = 0;

  constructor(private readonly onBlock: BlockCallback) {}

  emitLine(buf: Buffer, start: number, end: number, offset: number): void {
    this.records++;
    this.onBlock(buf, start, end, offset);
  }

  emitLines(buf: Buffer, start: number, end: number, bufOffset: number, stopAt: number): number {
    if (start >= end || start >= stopAt) return start;
    const blockEnd = linesEnd(buf, end, stopAt);
    this.records++;
    this.onBlock(buf, start, blockEnd, bufOffset + start);
    return blockEnd;
  }
}

/** Lines in bytes[start, end): its '\n's, plus a last line without one. */
export function linesIn(bytes: Buffer, start: number, end: number): number {
  // No subarray per block: it made this function deoptimize again and again (a view per call).
  let lines = 0;
  let last = start - 1;
  for (let i = start; i < end; i++) {
    i = bytes.indexOf(LF, i);
    if (i === -1 || i >= end) break;
    lines++;
    last = i;
  }
  return last < end - 1 ? lines + 1 : lines;
}
