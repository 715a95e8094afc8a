/**
 * Worker registrations (CAN_DO, CAN_DO_TIMEOUT, CANT_DO, RESET_ABILITIES) and the wake-up protocol.
 *
 * "The worker loop is: GRAB_JOB → NO_JOB → PRE_SLEEP → (sleep) → NOOP → GRAB_JOB." A sleeping
 * worker gets one NOOP per sleep when a job for one of its functions becomes runnable, and an
 * immediate NOOP on PRE_SLEEP when one already is. A worker that never sends PRE_SLEEP gets none.
 */
import { MIN_CAN_DO_TIMEOUT_MS } from '../protocol/limits.ts';
import { functionNameProblem } from './admission.ts';
import type { FunctionTable } from './functions.ts';
import type { FunctionRecord, Job, Session } from './records.ts';


export class WorkerRegistry {
  readonly #functions: FunctionTable;
  readonly #requeue: (job: Job) => void;

  constructor(functions: FunctionTable, requeue: (job: Job) => void) {
    this.#functions = functions;
    this.#requeue = requeue;
  }

  /**
   * CAN_DO / CAN_DO_TIMEOUT: appends a registration; duplicates count, as in gearmand. A name over
   * 8 KiB or with a control character is refused with an ERROR (gearmand closes the connection
   * past 8 KiB) and registers nothing.
   */
  canDo(session: Session, name: string, timeoutMs = 0): void {
    const problem = functionNameProblem(name);
    if (problem) return session.peer.sendError(problem[0], problem[1]);
    const fn = this.#functions.getOrCreate(name);
    const timeout = timeoutMs > 0 ? Math.max(timeoutMs, MIN_CAN_DO_TIMEOUT_MS) : 0;
    const ability = { fn, timeoutMs: timeout };
    session.abilities.push(ability);
    session.grabOrder.unshift(ability);
    fn.workerCount++;
    if (session.sleeping) fn.sleepers.add(session);
  }

  /** CANT_DO: removes every registration of the function and requeues its jobs on this connection. */
  cantDo(session: Session, name: string): void {
    const fn = this.#functions.get(name);
    if (!fn) return;
    const before = session.abilities.length;
    session.abilities = session.abilities.filter((ability) => ability.fn !== fn);
    fn.workerCount -= before - session.abilities.length;
    session.grabOrder = session.grabOrder.filter((ability) => ability.fn !== fn);
    fn.sleepers.delete(session);
    for (const job of session.jobs.toArray()) if (job.fn === fn) this.#requeue(job);
    this.#functions.release(fn);
  }

  /** RESET_ABILITIES: forgets every registration and requeues every job the connection runs. */
  reset(session: Session): void {
    this.awake(session);
    for (const ability of session.abilities) ability.fn.workerCount--;
    const abilities = session.abilities;
    session.abilities = [];
    session.grabOrder = [];
    for (const job of session.jobs.toArray()) this.#requeue(job);
    for (const ability of abilities) this.#functions.release(ability.fn);
  }

  disconnect(session: Session): void {
    this.reset(session);
  }

  /** PRE_SLEEP: NOOP at once when one of the worker's functions has a runnable job, else sleep. */
  preSleep(session: Session): void {
    for (const ability of session.abilities) {
      if (ability.fn.queued > 0) {
        this.awake(session);
        session.peer.sendNoop();
        return;
      }
    }
    session.sleeping = true;
    for (const ability of session.abilities) ability.fn.sleepers.add(session);
  }

  /** A GRAB (or a NOOP sent): the connection is no longer asleep. */
  awake(session: Session): void {
    if (!session.sleeping) return;
    session.sleeping = false;
    for (const ability of session.abilities) ability.fn.sleepers.delete(session);
  }

  /** A job of `fn` became runnable: one NOOP to each sleeping worker that can run it. */
  wakeFunction(fn: FunctionRecord): void {
    if (fn.sleepers.size === 0) return;
    for (const session of fn.sleepers) {
      this.awake(session);
      session.peer.sendNoop();
    }
  }
}
