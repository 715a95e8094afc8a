/**
 * Reads the lines of a split, with Hadoop's LineRecordReader rule: a line starts at byte 0 or
 * right after a '\n', and a split owns every line whose first byte lies in [offset, offset+length).
 * So a split that starts inside a line skips that partial line (its owner is the split before), and
 * a split reads past its end to finish its last line. Whatever the split size, every line is read
 * exactly once.
 *
 * Hot path: one reused buffer filled by filehandle.read; only whole lines are decoded, and '\n'
 * (0x0A) never occurs inside a UTF-8 multi-byte sequence, so no character is ever cut in two.
 * Lines are decoded a block (~64 KiB of whole lines) at a time: an all-ASCII block (checked with
 * simdutf's isAscii) becomes one latin1 string that is cut at '\n' with String#indexOf, where a
 * char index is a byte index; any other block is retried in 2 KiB blocks, and a 2 KiB block that
 * is not ASCII either is cut with Buffer#indexOf and decoded line by line.
 * Hazard: a line cut from a block string is a V8 sliced string that keeps its block (<= 64 KiB)
 * alive while the line is retained; the block size bounds that cost.
 */

import { isAscii } from 'node:buffer';
import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.ts';
import { openInput, readError, type Split } from '../shuffle/split.ts';

export interface RecordPosition {
  /** 1-based, counted from the split's first record. */
  line: number;
  /** Absolute byte offset of the record's first byte in the (decompressed) file. */
  offset: number;
}

export interface ReadResult {
  records: number;
  /** Bytes of the split consumed: split.length at the end for an uncompressed split; compressed bytes for .gz. */
  bytes: number;
}

export type RecordCallback = (line: string, pos: RecordPosition) => void;
export type ProgressCallback = (bytesDone: number) => void;

const LF = 0x0a;
const CR = 0x0d;
const READ_SIZE = 1024 * 1024;
const MIN_READ_SIZE = 64 * 1024;
const PROGRESS_STEP = 1024 * 1024;
const GUNZIP_CHUNK_SIZE = 256 * 1024;
const DECODE_BLOCK = 64 * 1024;
const SMALL_DECODE_BLOCK = 2 * 1024;

/**
 * Calls onRecord for each line the split owns, without its '\n' and a trailing '\r'. An empty line
 * is a record; the empty string after a final '\n' is not. onProgress(bytesDone) is called about
 * every 1 MiB and at the end. Errors thrown by the callbacks propagate unchanged; I/O and gunzip
 * errors become InputError naming the path.
 */
export async function readSplit(split: Split, onRecord: RecordCallback, onProgress?: ProgressCallback): Promise<ReadResult> {
  return split.compressed ? readCompressed(split, onRecord, onProgress) : readPlain(split, onRecord, onProgress);
}

/**
 * Records of a buffer that holds whole lines (an alignSplit range, or a whole decompressed file);
 * the last line may lack its '\n'. pos.offset = baseOffset + byte position in buf.
 */
export function readBufferRecords(buf: Buffer, baseOffset: number, onRecord: RecordCallback): ReadResult {
  const emitter = new LineEmitter(onRecord);
  const start = emitter.emitLines(buf, 0, buf.lastIndexOf(LF) + 1, baseOffset, Infinity);
  if (start < buf.length) emitter.emitLine(buf, start, buf.length, baseOffset + start);
  return { records: emitter.records, bytes: buf.length };
}

function decodeLine(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end > start && buf[end - 1] === CR ? end - 1 : end);
}

/** Counts records and hands each line, without '\n' and a trailing '\r', to the callback. */
class LineEmitter {
  records = 0;

  constructor(private readonly onRecord: RecordCallback) {}

  emitLine(buf: Buffer, start: number, end: number, offset: number): void {
    this.records++;
    this.onRecord(decodeLine(buf, start, end), { line: this.records, offset });
  }

  /**
   * Emits the lines of buf[start, end), where buf[end - 1] is '\n', up to and including the line
   * that holds index stopAt - 1 (the last line that starts before stopAt). bufOffset is the file
   * offset of buf[0]. Returns the index of the first line not emitted.
   */
  emitLines(buf: Buffer, start: number, end: number, bufOffset: number, stopAt: number, blockSize = DECODE_BLOCK): number {
    let pos = start;
    while (pos < end && pos < stopAt) {
      // A block of whole lines: up to blockSize bytes, at least one line, none past stopAt.
      const limit = Math.min(end, pos + blockSize);
      let blockEnd = stopAt < limit ? buf.indexOf(LF, stopAt - 1) + 1 : buf.lastIndexOf(LF, limit - 1) + 1;
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

/** A reused read buffer over a file: buf[0, filled) holds the file bytes from filePos on. */
class ChunkReader {
  buf: Buffer;
  /** buf.subarray(0, filled), so indexOf never finds stale bytes. */
  view: Buffer;
  filePos: number;
  filled = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    filePos: number,
    size: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = this.buf.subarray(0, 0);
    this.filePos = filePos;
  }

  /**
   * Drops buf[0, keepFrom), moves the rest to the front (growing the buffer when a single line
   * fills most of it) and reads more after it. Returns false at end of file.
   */
  async more(keepFrom: number): Promise<boolean> {
    const keep = this.filled - keepFrom;
    if (keep > this.buf.length / 2) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, keepFrom, this.filled);
      this.buf = grown;
    } else if (keep > 0) {
      this.buf.copy(this.buf, 0, keepFrom, this.filled);
    }
    this.filePos += keepFrom;
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.fh.read(this.buf, keep, this.buf.length - keep, this.filePos + keep));
    } catch (error) {
      throw readError(this.path, error);
    }
    this.filled = keep + bytesRead;
    this.view = this.buf.subarray(0, this.filled);
    return bytesRead > 0;
  }
}

async function readPlain(split: Split, onRecord: RecordCallback, onProgress?: ProgressCallback): Promise<ReadResult> {
  const { offset, length } = split;
  const splitEnd = offset + length;
  const emitter = new LineEmitter(onRecord);
  let reported = 0;
  const progress = (filePos: number): void => {
    if (onProgress === undefined) return;
    const done = Math.min(filePos, splitEnd) - offset;
    if (done - reported >= PROGRESS_STEP) {
      reported = done;
      onProgress(done);
    }
  };
  const finish = (bytes: number): ReadResult => {
    onProgress?.(bytes);
    return { records: emitter.records, bytes };
  };

  const fh = await openInput(split.path);
  try {
    // Start one byte early: a line starts at `offset` only if the byte before it is '\n'.
    const reader = new ChunkReader(fh, split.path, offset > 0 ? offset - 1 : 0, Math.min(READ_SIZE, Math.max(MIN_READ_SIZE, length + 1)));
    let start = 0; // index in reader.buf of the next line's first byte
    if (offset > 0) {
      // Skip to the first '\n' at or after offset-1; the line after it is ours if it starts before splitEnd.
      for (;;) {
        if (!(await reader.more(reader.filled))) return finish(Math.max(0, Math.min(reader.filePos, splitEnd) - offset));
        const newline = reader.view.indexOf(LF);
        if (newline !== -1) {
          if (reader.filePos + newline + 1 >= splitEnd) return finish(length);
          start = newline + 1;
          break;
        }
        // No '\n' in [offset-1, splitEnd-1): no line starts inside this split.
        if (reader.filePos + reader.filled >= splitEnd - 1) return finish(length);
        progress(reader.filePos + reader.filled);
      }
    } else if (!(await reader.more(0))) {
      return finish(0);
    }

    for (;;) {
      // Invariant: the line at `start` begins before splitEnd and is ours.
      const lastNewline = reader.view.lastIndexOf(LF);
      if (lastNewline >= start) {
        start = emitter.emitLines(reader.buf, start, lastNewline + 1, reader.filePos, splitEnd - reader.filePos);
        if (reader.filePos + start >= splitEnd) return finish(length);
      }
      // buf[start, filled) is the beginning of a line that continues past the buffer.
      progress(reader.filePos + start);
      if (!(await reader.more(start))) {
        // End of file: a last line without '\n' (nothing if the file ends with '\n').
        if (reader.filled > 0) emitter.emitLine(reader.buf, 0, reader.filled, reader.filePos);
        return finish(Math.max(0, Math.min(reader.filePos + reader.filled, splitEnd) - offset));
      }
      start = 0;
    }
  } finally {
    await fh.close();
  }
}

/** A gzip file is one split: decompress it whole and read every line. */
async function readCompressed(split: Split, onRecord: RecordCallback, onProgress?: ProgressCallback): Promise<ReadResult> {
  // Open first so a missing file fails here, with the path, rather than inside the stream.
  await (await openInput(split.path)).close();
  const input = createReadStream(split.path, { highWaterMark: READ_SIZE });
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_SIZE });
  // pipeline destroys both streams when either fails or the iterator below stops early.
  pipeline(input, gunzip, () => {});
  const chunks = gunzip[Symbol.asyncIterator]();

  const emitter = new LineEmitter(onRecord);
  let reported = 0;
  let chunkOffset = 0; // decompressed offset of the current chunk's first byte
  let pending: Buffer[] = []; // pieces of a line that spans chunks
  let pendingOffset = 0;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (error) {
        throw readError(split.path, error);
      }
      if (next.done === true) break;
      const chunk = next.value;
      let start = 0;
      if (pending.length > 0) {
        const newline = chunk.indexOf(LF);
        if (newline === -1) {
          pending.push(chunk);
        } else {
          pending.push(chunk.subarray(0, newline));
          const line = Buffer.concat(pending);
          pending = [];
          emitter.emitLine(line, 0, line.length, pendingOffset);
          start = newline + 1;
        }
      }
      if (pending.length === 0) {
        start = emitter.emitLines(chunk, start, chunk.lastIndexOf(LF) + 1, chunkOffset, Infinity);
        if (start < chunk.length) {
          pending.push(chunk.subarray(start));
          pendingOffset = chunkOffset + start;
        }
      }
      chunkOffset += chunk.length;
      if (onProgress !== undefined && input.bytesRead - reported >= PROGRESS_STEP) {
        reported = input.bytesRead;
        onProgress(reported);
      }
    }
    if (pending.length > 0) {
      const line = Buffer.concat(pending);
      emitter.emitLine(line, 0, line.length, pendingOffset);
    }
  } finally {
    gunzip.destroy();
    input.destroy();
  }
  onProgress?.(input.bytesRead);
  return { records: emitter.records, bytes: input.bytesRead };
}
