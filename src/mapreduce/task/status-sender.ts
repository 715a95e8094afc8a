/**
 * Sends a running task's ctx.status(text) to the driver in S frames: the latest text, at most
 * every MIN_INTERVAL_MS (a status per record must not become a packet per record); a text held
 * back is sent at the next chance (progress, a later status, the end of the attempt).
 */
import { MAX_STATUS_LENGTH, statusFrame } from '../shuffle/task-protocol.ts';

const MIN_INTERVAL_MS = 200;

export class StatusSender {
  #lastSent = 0;
  #held: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly send: (frame: Buffer) => void) {}

  /** A plain function for whoever reports status (ctx.status, a streaming task's stderr). */
  readonly status = (text: string): void => {
    if (this.#closed) return;
    this.#held = text.length > MAX_STATUS_LENGTH ? text.slice(0, MAX_STATUS_LENGTH) : text;
    if (Date.now() - this.#lastSent >= MIN_INTERVAL_MS) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), MIN_INTERVAL_MS);
      this.#timer.unref();
    }
  };

  /** Sends a text held back, and nothing after. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#held === undefined) return;
    const text = this.#held;
    this.#held = undefined;
    this.#lastSent = Date.now();
    this.send(statusFrame(text));
  }
}
