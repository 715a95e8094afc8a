/**
 * When a map task sends WORK_STATUS: every PROGRESS_BYTES read or PROGRESS_MS, whichever comes
 * first, and at its end; not once per file of a grouped task (500 Brown files were 500 packets
 * through the server to the driver for 2 tasks). Still a heartbeat for --task-timeout.
 */
export const PROGRESS_BYTES = 1 << 20;
export const PROGRESS_MS = 200;

export class ProgressThrottle {
  #sent = -1;
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly total: number) {}

  /** Whether progress `done` (bytes of `total`) is to be sent at time `now` (ms); if so, it counts as sent. */
  due(done: number, now: number): boolean {
    if (done === this.#sent) return false;
    if (done < this.total && done - this.#sent < PROGRESS_BYTES && now - this.#sentAt < PROGRESS_MS) return false;
    this.#sent = done;
    this.#sentAt = now;
    return true;
  }
}
