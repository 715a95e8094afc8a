/**
 * Reads the lines of a split, with Hadoop's LineRecordReader rule: a line starts at byte 0 or
 * right after a '\n', and a split owns every line whose first byte lies in [offset, offset+length).
 * So a split that starts inside a line skips that partial line (its owner is the split before), and
 * a split reads past its end to finish its last line. Whatever the split size, every line is read
 * exactly once.
 *
 * The reader finds the lines a split owns in one reused buffer filled by filehandle.read; an
 * emitter (split-emitters.ts) delivers them as strings (`map`) or as byte ranges (`mapBytes`).
 */

import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.ts';
import { openInput, readError, type InputFile, type Split } from '../shuffle/split.ts';
import { DEFAULT_LIMITS, type InputOpener, type TaskLimits } from './input-guard.ts';
import { BlockEmitter, LineEmitter, type BlockCallback, type RecordCallback, type SplitEmitter } from './split-emitters.ts';

export type { BlockCallback, RecordCallback, RecordPosition } from './split-emitters.ts';
export { linesIn } from './split-emitters.ts';

export interface ReadResult {
  records: number;
  /** Bytes of the split consumed: split.length at the end for an uncompressed split; compressed bytes for .gz. */
  bytes: number;
}

export type ProgressCallback = (bytesDone: number) => void;

/** How a task opens its input and what it may consume (input-guard.ts); defaults: open anything, default limits. */
export interface ReadOptions extends Partial<TaskLimits> {
  open?: InputOpener;
}

function limitsOf(options: Partial<TaskLimits>): TaskLimits {
  return {
    maxLineBytes: options.maxLineBytes ?? DEFAULT_LIMITS.maxLineBytes,
    maxInflatedBytes: options.maxInflatedBytes ?? DEFAULT_LIMITS.maxInflatedBytes,
  };
}

/** A line longer than the limit fails the task: one line must never take a worker's memory. */
function lineTooLong(path: string, offset: number, max: number): InputError {
  return new InputError(`line longer than ${max} bytes at ${path}@${offset} (raise the limit with gmr worker --max-line-length)`);
}

const LF = 0x0a;
const READ_SIZE = 1024 * 1024;
const MIN_READ_SIZE = 64 * 1024;
const PROGRESS_STEP = 1024 * 1024;
const GUNZIP_CHUNK_SIZE = 256 * 1024;

/**
 * Calls onRecord for each line the split owns, without its '\n' and a trailing '\r'. An empty line
 * is a record; the empty string after a final '\n' is not. onProgress(bytesDone) is called about
 * every 1 MiB and at the end. Errors thrown by the callbacks propagate unchanged; I/O and gunzip
 * errors become InputError naming the path.
 */
export async function readSplit(split: Split, onRecord: RecordCallback, onProgress?: ProgressCallback, options: ReadOptions = {}): Promise<ReadResult> {
  return readSplitWith(split, new LineEmitter(onRecord), onProgress, options);
}

/**
 * The same lines as readSplit, as byte ranges of whole lines (see BlockCallback): each call holds
 * as many lines as the read buffer (~1 MiB) does. ReadResult.records counts blocks.
 */
export async function readSplitBlocks(split: Split, onBlock: BlockCallback, onProgress?: ProgressCallback, options: ReadOptions = {}): Promise<ReadResult> {
  return readSplitWith(split, new BlockEmitter(onBlock), onProgress, options);
}

async function readSplitWith(split: Split, emitter: SplitEmitter, onProgress: ProgressCallback | undefined, options: ReadOptions): Promise<ReadResult> {
  const limits = limitsOf(options);
  const open = options.open ?? openInput;
  if (!split.compressed) return readPlain(split, emitter, onProgress, open, limits.maxLineBytes);
  const fh = await open(split.path);
  const input = fh.createReadStream({ highWaterMark: READ_SIZE });
  return readCompressed(split.path, input, () => input.bytesRead, emitter, onProgress, limits);
}

/** A shipped .gz file (the whole compressed file in memory), read as a stream with the same limits. */
export async function readShippedCompressed(path: string, body: Buffer, onRecord: RecordCallback, options: Partial<TaskLimits> = {}): Promise<ReadResult> {
  return readCompressed(path, Readable.from([body]), () => body.length, new LineEmitter(onRecord), undefined, limitsOf(options));
}

/** readShippedCompressed as byte ranges of whole lines (see BlockCallback). */
export async function readShippedCompressedBlocks(path: string, body: Buffer, onBlock: BlockCallback, options: Partial<TaskLimits> = {}): Promise<ReadResult> {
  return readCompressed(path, Readable.from([body]), () => body.length, new BlockEmitter(onBlock), undefined, limitsOf(options));
}

/** Fails on a line of buf longer than the limit (shipped bytes arrive whole, so check before emitting). */
export function checkLineLengths(buf: Buffer, baseOffset: number, maxLineBytes: number, path: string): void {
  for (let s = 0; s < buf.length; ) {
    const newline = buf.indexOf(LF, s);
    const end = newline < 0 ? buf.length : newline;
    if (end - s > maxLineBytes) throw lineTooLong(path, baseOffset + s, maxLineBytes);
    s = end + 1;
  }
}

/**
 * Records of a buffer that holds whole lines (an alignSplit range, or a whole decompressed file);
 * the last line may lack its '\n'. pos.offset = baseOffset + byte position in buf.
 */
export function readBufferRecords(buf: Buffer, baseOffset: number, onRecord: RecordCallback): ReadResult {
  return readBufferWith(buf, baseOffset, new LineEmitter(onRecord));
}

/** readBufferRecords as byte ranges of whole lines (see BlockCallback); records counts blocks. */
export function readBufferBlocks(buf: Buffer, baseOffset: number, onBlock: BlockCallback): ReadResult {
  return readBufferWith(buf, baseOffset, new BlockEmitter(onBlock));
}

function readBufferWith(buf: Buffer, baseOffset: number, emitter: SplitEmitter): ReadResult {
  const start = emitter.emitLines(buf, 0, buf.lastIndexOf(LF) + 1, baseOffset, Infinity);
  if (start < buf.length) emitter.emitLine(buf, start, buf.length, baseOffset + start);
  return { records: emitter.records, bytes: buf.length };
}

/**
 * The read buffer of the last plain split read to its end, taken by the next one: a task over 250
 * small files reads them all through one buffer instead of allocating 64 KiB for each (a buffer
 * is handed to the job only during a callback, documented as reused after it). One at a time: a
 * reader owns the buffer it took until it gives it back, so concurrent tasks never share one.
 */
let spare: Buffer | undefined;

function takeBuffer(size: number): Buffer {
  const buf = spare !== undefined && spare.length >= size ? spare : Buffer.allocUnsafe(size);
  if (buf === spare) spare = undefined;
  return buf;
}

function giveBack(buf: Buffer): void {
  // A buffer grown for a long line is not kept.
  if (buf.length <= READ_SIZE && (spare === undefined || spare.length < buf.length)) spare = buf;
}

/** A reused read buffer over a file: buf[0, filled) holds the file bytes from filePos on. */
class ChunkReader {
  buf: Buffer;
  /** buf.subarray(0, filled), so indexOf never finds stale bytes. */
  view: Buffer;
  filePos: number;
  filled = 0;

  constructor(
    private readonly fh: InputFile,
    private readonly path: string,
    filePos: number,
    size: number,
    private readonly maxLineBytes: number,
  ) {
    this.buf = takeBuffer(size);
    this.view = this.buf.subarray(0, 0);
    this.filePos = filePos;
  }

  /**
   * Drops buf[0, keepFrom), moves the rest to the front (growing the buffer when a single line
   * fills most of it) and reads more after it. Returns false at end of file.
   */
  async more(keepFrom: number): Promise<boolean> {
    const keep = this.filled - keepFrom;
    if (keep > this.maxLineBytes) throw lineTooLong(this.path, this.filePos + keepFrom, this.maxLineBytes);
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

async function readPlain(split: Split, emitter: SplitEmitter, onProgress: ProgressCallback | undefined, open: InputOpener, maxLineBytes: number): Promise<ReadResult> {
  const { offset, length } = split;
  const splitEnd = offset + length;
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

  const fh = await open(split.path);
  // Start one byte early: a line starts at `offset` only if the byte before it is '\n'.
  const reader = new ChunkReader(fh, split.path, offset > 0 ? offset - 1 : 0, Math.min(READ_SIZE, Math.max(MIN_READ_SIZE, length + 1)), maxLineBytes);
  try {
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
    giveBack(reader.buf);
  }
}

/**
 * A gzip file is one split: decompress it as a stream and read every line. A line longer than
 * maxLineBytes or more than maxInflatedBytes in all fails the task (a gzip bomb inflates 1 MiB to GiBs).
 */
async function readCompressed(
  path: string,
  input: Readable,
  compressedRead: () => number,
  emitter: SplitEmitter,
  onProgress: ProgressCallback | undefined,
  limits: TaskLimits,
): Promise<ReadResult> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_SIZE });
  // pipeline destroys both streams when either fails or the iterator below stops early.
  pipeline(input, gunzip, () => {});
  const chunks = gunzip[Symbol.asyncIterator]();

  let reported = 0;
  let chunkOffset = 0; // decompressed offset of the current chunk's first byte
  let pending: Buffer[] = []; // pieces of a line that spans chunks
  let pendingOffset = 0;
  let pendingBytes = 0;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (error) {
        throw readError(path, error);
      }
      if (next.done === true) break;
      const chunk = next.value;
      if (chunkOffset + chunk.length > limits.maxInflatedBytes) {
        throw new InputError(`${path} inflates to more than ${limits.maxInflatedBytes} bytes (raise the limit with gmr worker --max-inflated-size)`);
      }
      let start = 0;
      if (pending.length > 0) {
        const newline = chunk.indexOf(LF);
        if (newline === -1) {
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes > limits.maxLineBytes) throw lineTooLong(path, pendingOffset, limits.maxLineBytes);
        } else {
          pending.push(chunk.subarray(0, newline));
          const line = Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          if (line.length > limits.maxLineBytes) throw lineTooLong(path, pendingOffset, limits.maxLineBytes);
          emitter.emitLine(line, 0, line.length, pendingOffset);
          start = newline + 1;
        }
      }
      if (pending.length === 0) {
        start = emitter.emitLines(chunk, start, chunk.lastIndexOf(LF) + 1, chunkOffset, Infinity);
        if (start < chunk.length) {
          pending.push(chunk.subarray(start));
          pendingBytes = chunk.length - start;
          pendingOffset = chunkOffset + start;
          if (pendingBytes > limits.maxLineBytes) throw lineTooLong(path, pendingOffset, limits.maxLineBytes);
        }
      }
      chunkOffset += chunk.length;
      if (onProgress !== undefined && compressedRead() - reported >= PROGRESS_STEP) {
        reported = compressedRead();
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
  onProgress?.(compressedRead());
  return { records: emitter.records, bytes: compressedRead() };
}
