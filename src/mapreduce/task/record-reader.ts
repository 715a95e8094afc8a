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

import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.ts';
import { openInput, readError, type Split } from '../shuffle/split.ts';
import { BlockEmitter, LineEmitter, type BlockCallback, type RecordCallback, type SplitEmitter } from './split-emitters.ts';

export type { BlockCallback, RecordCallback, RecordPosition } from './split-emitters.ts';

export interface ReadResult {
  records: number;
  /** Bytes of the split consumed: split.length at the end for an uncompressed split; compressed bytes for .gz. */
  bytes: number;
}

export type ProgressCallback = (bytesDone: number) => void;

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
export async function readSplit(split: Split, onRecord: RecordCallback, onProgress?: ProgressCallback): Promise<ReadResult> {
  return readSplitWith(split, new LineEmitter(onRecord), onProgress);
}

/**
 * The same lines as readSplit, as byte ranges of whole lines (see BlockCallback): each call holds
 * as many lines as the read buffer (~1 MiB) does. ReadResult.records counts blocks.
 */
export async function readSplitBlocks(split: Split, onBlock: BlockCallback, onProgress?: ProgressCallback): Promise<ReadResult> {
  return readSplitWith(split, new BlockEmitter(onBlock), onProgress);
}

async function readSplitWith(split: Split, emitter: SplitEmitter, onProgress?: ProgressCallback): Promise<ReadResult> {
  return split.compressed ? readCompressed(split, emitter, onProgress) : readPlain(split, emitter, onProgress);
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

async function readPlain(split: Split, emitter: SplitEmitter, onProgress?: ProgressCallback): Promise<ReadResult> {
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
async function readCompressed(split: Split, emitter: SplitEmitter, onProgress?: ProgressCallback): Promise<ReadResult> {
  // Open first so a missing file fails here, with the path, rather than inside the stream.
  await (await openInput(split.path)).close();
  const input = createReadStream(split.path, { highWaterMark: READ_SIZE });
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_SIZE });
  // pipeline destroys both streams when either fails or the iterator below stops early.
  pipeline(input, gunzip, () => {});
  const chunks = gunzip[Symbol.asyncIterator]();

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
