/**
 * The admin commands' view of the job model (AdminBroker): list rows built from the records, and
 * the few changes admin may make. Lists are in creation order (gearmand: hash-bucket order).
 */
import type { FunctionStatus, JobInfo, PriorityStatus, WorkerInfo } from '../protocol/admin-text.ts';
import type { AdminBroker } from './admin-commands.ts';
import type { FunctionTable } from './functions.ts';
import type { Ability, Job, Session } from './records.ts';
import { functionNameProblem } from './admission.ts';
import type { JobTable } from './job-table.ts';

export class AdminView implements AdminBroker {
  readonly #functions: FunctionTable;
  readonly #jobs: Pick<JobTable, 'values'>;
  readonly #sessions: ReadonlySet<Session>;
  readonly cancel: (handle: string) => boolean;

  constructor(
    functions: FunctionTable,
    jobs: Pick<JobTable, 'values'>,
    sessions: ReadonlySet<Session>,
    cancel: (handle: string) => boolean,
  ) {
    this.#functions = functions;
    this.#jobs = jobs;
    this.#sessions = sessions;
    this.cancel = cancel;
  }

  *functionStatus(): IterableIterator<FunctionStatus> {
    for (const fn of this.#functions.values()) {
      yield { function: fn.name, total: fn.total, running: fn.running, workers: fn.workerCount };
    }
  }

  /** Queued jobs only; EPOCH jobs waiting for their time count as NORMAL, as in gearmand. */
  *priorityStatus(): IterableIterator<PriorityStatus> {
    for (const fn of this.#functions.values()) {
      const [high, normal, low] = fn.queues;
      yield { function: fn.name, high: high.length, normal: normal.length + fn.scheduled, low: low.length, workers: fn.workerCount };
    }
  }

  *workers(): IterableIterator<WorkerInfo> {
    for (const { peer, abilities } of this.#sessions) {
      const functions: string[] = [];
      for (let i = abilities.length - 1; i >= 0; i--) functions.push((abilities[i] as Ability).fn.name);
      yield { fd: peer.id, ip: peer.remoteAddress, clientId: peer.clientId, functions };
    }
  }

  /** IGNORE for a cancelled or abandoned job, QUEUED for a background one. */
  *jobs(): IterableIterator<JobInfo> {
    for (const job of this.#jobs.values()) {
      yield { handle: job.handle, retries: job.retries, ignore: job.ignored, queued: job.background };
    }
  }

  *uniques(): IterableIterator<string> {
    for (const job of this.#jobs.values()) yield job.unique;
  }

  setMaxQueue(name: string, limits: [number, number, number]): void {
    // "The function must already exist, otherwise it is a silent no-op."
    const fn = this.#functions.get(name);
    if (!fn) return;
    fn.maxQueue = limits;
    fn.pinned = true;
  }

  createFunction(name: string): string | undefined {
    const problem = functionNameProblem(name);
    if (problem) return problem[1];
    this.#functions.getOrCreate(name).pinned = true;
    return undefined;
  }

  dropFunction(name: string): 'dropped' | 'unknown' | 'busy' {
    const fn = this.#functions.get(name);
    if (!fn) return 'unknown';
    if (fn.workerCount > 0 || fn.total > 0) return 'busy';
    this.#functions.delete(name);
    return 'dropped';
  }
}
