/**
 * One task attempt's log: what its job code writes to stdout and stderr, kept in order up to the
 * attempt's limit and sent to the driver in L frames as it comes (batched), so the driver has the
 * log of an attempt whose worker dies later. What passes the limit is counted, and the count sent
 * at the end (`L cut <n>`).
 */
import { logCutFrame, logFrame, type LogStream } from '../shuffle/task-protocol.ts';

/** Batch size of L frames: a console.log per record must not become a packet per record. */
const FLUSH_AT = 32 * 1024;
/** How long written text may wait for its frame when the task goes on asynchronously. */
const FLUSH_AFTER_MS = 500;

export class TaskLog {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #stream: LogStream = 'out';
  #kept = 0;
  #dropped = 0;
  #open = true;
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = Date.now();

  constructor(
    private readonly send: (frame: Buffer) => void,
    /** Bytes this attempt may send; 0 sends nothing. */
    readonly limit: number,
  ) {}

  /** False once the attempt has ended: later writes (the worker's own lines) are not the task's. */
  get open(): boolean {
    return this.#open;
  }

  write(stream: LogStream, bytes: Buffer): void {
    if (!this.#open) return;
    const room = this.limit - this.#kept;
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, Math.max(0, room));
    this.#dropped += bytes.length - kept.length;
    if (kept.length === 0) return;
    if (stream !== this.#stream) this.flush();
    this.#stream = stream;
    // Copied: a caller may reuse its buffer once write returns.
    this.#pending.push(Buffer.from(kept));
    this.#pendingBytes += kept.length;
    this.#kept += kept.length;
    // A synchronous loop never lets the timer fire: look at the clock here too.
    if (this.#pendingBytes >= FLUSH_AT || Date.now() - this.#lastFlush >= FLUSH_AFTER_MS) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_AFTER_MS);
      this.#timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastFlush = Date.now();
    if (this.#pendingBytes === 0) return;
    const data = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.send(logFrame(this.#stream, data));
  }

  /** Sends what is left, and a last line when bytes passed the limit. Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.flush();
    this.#open = false;
    if (this.#dropped > 0) this.send(logCutFrame(this.#dropped));
  }
}
