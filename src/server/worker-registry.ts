/**
 * Worker registrations (CAN_DO, CAN_DO_TIMEOUT, CANT_DO, RESET_ABILITIES) and the wake-up protocol.
 *
 * "The worker loop is: GRAB_JOB → NO_JOB → PRE_SLEEP → (sleep) → NOOP → GRAB_JOB." A sleeping
 * worker gets one NOOP per sleep when a job for one of its functions becomes runnable, and an
 * immediate NOOP on PRE_SLEEP when one already is. A worker that never sends PRE_SLEEP gets none.
 */
import type { FunctionRecord, FunctionTable } from './functions.ts';
import type { Job } from './job.ts';
import type { ServerConnection } from './server-connection.ts';

/** gearmand (>= 1.1.19) takes CAN_DO_TIMEOUT in milliseconds, with a minimum of one second. */
export const MIN_TIMEOUT_MS = 1000;

export class WorkerRegistry {
  readonly #functions: FunctionTable;
  readonly #requeue: (job: Job) => void;

  constructor(functions: FunctionTable, requeue: (job: Job) => void) {
    this.#functions = functions;
    this.#requeue = requeue;
  }

  /** CAN_DO / CAN_DO_TIMEOUT: appends a registration; duplicates count, as in gearmand. */
  canDo(conn: ServerConnection, name: string, timeoutMs = 0): void {
    const fn = this.#functions.getOrCreate(name);
    const timeout = timeoutMs > 0 ? Math.max(timeoutMs, MIN_TIMEOUT_MS) : 0;
    const ability = { fn, timeoutMs: timeout };
    conn.abilities.push(ability);
    conn.grabOrder.unshift(ability);
    fn.workerCount++;
    if (conn.sleeping) fn.sleepers.add(conn);
  }

  /** CANT_DO: removes every registration of the function and requeues its jobs on this connection. */
  cantDo(conn: ServerConnection, name: string): void {
    const fn = this.#functions.get(name);
    if (!fn) return;
    const before = conn.abilities.length;
    conn.abilities = conn.abilities.filter((ability) => ability.fn !== fn);
    fn.workerCount -= before - conn.abilities.length;
    conn.grabOrder = conn.grabOrder.filter((ability) => ability.fn !== fn);
    fn.sleepers.delete(conn);
    for (const job of [...conn.jobs]) if (job.fn === fn) this.#requeue(job);
  }

  /** RESET_ABILITIES: forgets every registration and requeues every job the connection runs. */
  reset(conn: ServerConnection): void {
    this.awake(conn);
    for (const ability of conn.abilities) ability.fn.workerCount--;
    conn.abilities = [];
    conn.grabOrder = [];
    for (const job of [...conn.jobs]) this.#requeue(job);
  }

  disconnect(conn: ServerConnection): void {
    this.reset(conn);
  }

  /** PRE_SLEEP: NOOP at once when one of the worker's functions has a runnable job, else sleep. */
  preSleep(conn: ServerConnection): void {
    for (const ability of conn.abilities) {
      if (ability.fn.queued > 0) {
        this.awake(conn);
        conn.sendNoop();
        return;
      }
    }
    conn.sleeping = true;
    for (const ability of conn.abilities) ability.fn.sleepers.add(conn);
  }

  /** A GRAB (or a NOOP sent): the connection is no longer asleep. */
  awake(conn: ServerConnection): void {
    if (!conn.sleeping) return;
    conn.sleeping = false;
    for (const ability of conn.abilities) ability.fn.sleepers.delete(conn);
  }

  /** A job of `fn` became runnable: one NOOP to each sleeping worker that can run it. */
  wakeFunction(fn: FunctionRecord): void {
    if (fn.sleepers.size === 0) return;
    for (const conn of fn.sleepers) {
      this.awake(conn);
      conn.sendNoop();
    }
  }
}
