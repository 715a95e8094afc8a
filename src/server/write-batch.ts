/**
 * Output batching for the embedded server: connections with queued replies register here, and
 * everything leaves at the end of the event-loop turn.
 */

/** Something with output queued, to be written at the end of the turn. */
export interface Flushable {
  flush(): void;
}

/**
 * Connections with output queued since the last flush. The flush runs once per event-loop turn (setImmediate,
 * after the poll phase), so the replies caused by every socket that was readable in this turn
 * leave together: a client whose jobs were completed by several workers gets one write, not one
 * per worker packet. That batching is what keeps the syscall count, and the CPU, per job low.
 */
export class WriteBatch {
  #pending: Flushable[] = [];
  /** Runs first at every flush: the persistent queue commits before any reply leaves. */
  readonly #before: (() => void) | undefined;
  #immediate: NodeJS.Immediate | undefined;
  readonly #run = (): void => {
    this.#immediate = undefined;
    this.flush();
  };

  constructor(before?: () => void) {
    this.#before = before;
  }

  /** A flush at the end of this turn even if no connection has output (a commit is pending). */
  schedule(): void {
    this.#immediate ??= setImmediate(this.#run);
  }

  add(conn: Flushable): void {
    this.#pending.push(conn);
    this.#immediate ??= setImmediate(this.#run);
  }

  flush(): void {
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    this.#before?.();
    // Replies the commit released (JOB_CREATED) join this flush.
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      for (const conn of pending) conn.flush();
    }
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
  }
}
