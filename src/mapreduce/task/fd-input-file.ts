/**
 * An input file as a plain descriptor: reads, fstat and close in the thread. A FileHandle costs a
 * pool round trip for each of them, and a task over many small files paid for that per file (500
 * files: ~75 CPU-ms through FileHandle against ~40 with reads through the pool, ~15 in-thread).
 */
import { closeSync, createReadStream, fstatSync, readSync, type ReadStream, type Stats } from 'node:fs';
import type { InputFile, InputStreamOptions } from '../shuffle/split.ts';

const TURN_BYTES = 1 << 20;
/** Bytes read in-thread since the event loop last had a turn (across files: a task reads many small ones). */
let readSinceTurn = 0;

export class FdInputFile implements InputFile {
  /** Closed, or handed to a read stream that closes it at its end. */
  #released = false;

  constructor(readonly fd: number) {}

  /**
   * Reads in the thread, as the C counter does: the record reader waits for each read before it
   * scans the bytes, so a pool read overlapped nothing and cost a round trip per read (two per
   * small file: 250 Brown files, ~30 CPU-ms through the pool against ~8 in-thread). A read that
   * waits on a disk holds the task's thread as scanning its bytes does; with `gmr worker
   * --concurrency` above 1 it holds the process's other tasks too (one process per core reads in
   * parallel, as the local workers do).
   */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    let bytesRead: number;
    try {
      bytesRead = readSync(this.fd, buffer, offset, length, position);
    } catch (error) {
      return Promise.reject(error);
    }
    // The event loop still gets a turn every TURN_BYTES read, as it did with a pool read per
    // 1 MiB: partial frames and WORK_STATUS leave, a cancel arrives.
    readSinceTurn += bytesRead;
    if (readSinceTurn < TURN_BYTES) return Promise.resolve({ bytesRead });
    readSinceTurn = 0;
    return new Promise((resolve) => setImmediate(() => resolve({ bytesRead })));
  }

  async stat(): Promise<Stats> {
    return fstatSync(this.fd);
  }

  async close(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    closeSync(this.fd);
  }

  /** A stream of the file that owns the descriptor from now on (it closes it when it ends or is destroyed). */
  createReadStream(options: InputStreamOptions = {}): ReadStream {
    if (this.#released) throw new Error(`input file descriptor ${this.fd} was already closed`);
    this.#released = true;
    return createReadStream('', { ...options, fd: this.fd, autoClose: true });
  }
}
