/**
 * A split and its line alignment, the contract both sides share: a split is a byte range of a
 * file, and it owns every line whose first byte lies in [offset, offset+length) (Hadoop's
 * LineRecordReader rule). The driver cuts splits and ships aligned ranges; the task reads them.
 */
import { promises as fsp, type ReadStream } from 'node:fs';
import { InputError } from '../../errors.ts';

/** What reading an input file needs: a FileHandle is one, and so is a task's checked descriptor. */
export interface InputFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
  /** A stream of the file (it closes the file at its end). */
  createReadStream(options?: InputStreamOptions): ReadStream;
}

export interface InputStreamOptions {
  start?: number;
  end?: number;
  highWaterMark?: number;
}

export interface Split {
  /** Position in the list planSplits returned. */
  index: number;
  path: string;
  offset: number;
  length: number;
  compressed: boolean;
  fileSize: number;
  /**
   * Small files grouped into one map task (as Hadoop's CombineFileInputFormat does): the whole
   * files it reads, in order, the first being path/offset/fileSize above; length is their sum.
   */
  files?: Array<Omit<Split, 'index' | 'files'>>;
}

const LF = 0x0a;
const PROBE_SIZE = 64 * 1024;

/**
 * The exact byte range [start, end) holding the records this split owns, for shipping them to a
 * worker without a shared filesystem; the ranges of a file's splits are contiguous and cover it.
 * A split that owns no line gives start === end. For a compressed split the range is the whole
 * compressed file, which the receiver must gunzip before readBufferRecords.
 */
export async function alignSplit(split: Split, open: (path: string) => Promise<InputFile> = openInput): Promise<{ start: number; end: number }> {
  const fh = await open(split.path);
  try {
    const fileSize = (await fh.stat()).size;
    if (split.compressed) return { start: 0, end: fileSize };
    const start = await nextLineStart(fh, split, split.offset, fileSize);
    const splitEnd = split.offset + split.length;
    // No line starts in [offset, splitEnd) when start is already past it: the split owns nothing.
    const end = start >= splitEnd ? start : await nextLineStart(fh, split, splitEnd, fileSize);
    return { start, end };
  } finally {
    await fh.close();
  }
}

/** Offset of the first line that starts at or after `from` (fileSize if none). */
async function nextLineStart(fh: InputFile, split: Split, from: number, fileSize: number): Promise<number> {
  if (from <= 0) return 0;
  if (from >= fileSize) return fileSize;
  const buf = Buffer.allocUnsafe(PROBE_SIZE);
  // A line starts at `from` only if the byte before it is '\n'.
  for (let pos = from - 1; pos < fileSize; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, buf.length, pos));
    } catch (error) {
      throw readError(split.path, error);
    }
    if (bytesRead === 0) break;
    const newline = buf.subarray(0, bytesRead).indexOf(LF);
    if (newline !== -1) return Math.min(pos + newline + 1, fileSize);
    pos += bytesRead;
  }
  return fileSize;
}

/** Opens an input file for reading; a failure is an InputError naming the path. */
export async function openInput(path: string): Promise<InputFile> {
  try {
    return await fsp.open(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
}

/** An I/O failure on an input file, naming it. */
export function readError(path: string, error: unknown): InputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InputError(`Cannot read input file ${path}: ${reason}`, { cause: error });
}
