/**
 * A byte stream cut at line ends: every chunk it passes on ends with '\n' (except a last line
 * without one), so that split2 after it never re-scans a long line chunk after chunk (split2
 * alone took two minutes over a 50 MB line). Lines are bounded: one longer than `maxBytes` fails
 * the stream with an error naming `what`, or with `truncate` is cut to its first `maxBytes` bytes.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { TaskError } from '../../errors.ts';

const LF = 0x0a;

export class WholeLines extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** In truncate mode: the rest of an overlong line is being dropped. */
  private dropping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
    private readonly truncate = false,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    if (this.dropping) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) return done();
      this.dropping = false;
      this.push(Buffer.from('\n'));
      start = lf + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last < start) {
      this.hold(chunk.subarray(start));
      return done(this.overflow());
    }
    // The first line may continue what is pending; lines inside one chunk are only checked when
    // the chunk is larger than the bound (they cannot be longer than the chunk).
    const first = chunk.indexOf(LF, start);
    if (this.pendingBytes + first - start > this.maxBytes || (last - start > this.maxBytes && this.longLineIn(chunk, first + 1, last))) {
      if (!this.truncate) return done(this.tooLong());
      this.passTruncated(chunk.subarray(start, last + 1));
    } else if (this.pending.length > 0) {
      this.pending.push(chunk.subarray(start, last + 1));
      this.push(Buffer.concat(this.pending));
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.push(chunk.subarray(start, last + 1));
    }
    if (last + 1 < chunk.length) this.hold(chunk.subarray(last + 1));
    done(this.overflow());
  }

  override _flush(done: TransformCallback): void {
    if (this.pending.length > 0) this.push(Buffer.concat(this.pending));
    this.pending = [];
    done();
  }

  private hold(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private overflow(): Error | undefined {
    if (this.pendingBytes <= this.maxBytes) return undefined;
    if (!this.truncate) return this.tooLong();
    const head = Buffer.concat(this.pending).subarray(0, this.maxBytes);
    this.push(head);
    this.pending = [];
    this.pendingBytes = 0;
    this.dropping = true;
    return undefined;
  }

  private longLineIn(chunk: Buffer, from: number, last: number): boolean {
    for (let i = from; i <= last; ) {
      const lf = chunk.indexOf(LF, i);
      if (lf - i > this.maxBytes) return true;
      i = lf + 1;
    }
    return false;
  }

  /** Truncate mode: passes the lines of `whole` (pending first), each cut to maxBytes. */
  private passTruncated(whole: Buffer): void {
    const bytes = Buffer.concat([...this.pending, whole]);
    this.pending = [];
    this.pendingBytes = 0;
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; ) {
      const lf = bytes.indexOf(LF, i);
      out.push(bytes.subarray(i, Math.min(lf, i + this.maxBytes)), Buffer.from('\n'));
      i = lf + 1;
    }
    this.push(Buffer.concat(out));
  }

  private tooLong(): TaskError {
    return new TaskError(`${this.what} wrote a line longer than ${this.maxBytes} bytes (the bound on one line); expected shorter lines`);
  }
}
