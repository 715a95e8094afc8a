/**
 * Between the broker's jobs and the queue's rows: a job's row, and whether a row read back (from
 * a file anyone may have written, gearmand included) names a job the server would have accepted.
 */
import { randomUUID } from 'node:crypto';
import { InputError } from '../../errors.ts';
import { submitProblem } from '../admission.ts';
import type { FunctionTable } from '../functions.ts';
import { Job } from '../records.ts';
import { coalescingKey } from '../submit.ts';
import type { StoredJob } from './queue-store.ts';

export function storedJob(job: Job): StoredJob {
  return { unique: job.unique, fn: job.fn.name, priority: job.priority, data: job.data, whenSeconds: job.when > 0 ? Math.floor(job.when / 1000) : 0 };
}

/**
 * A stored job needs a row key of its own (gearmand's table keys on unique and function): one
 * submitted without a unique ('' or '-') gets a UUID, as libgearman's clients make one.
 */
export function rowUnique(unique: string): string {
  return unique === '' || unique === '-' ? randomUUID() : unique;
}

/** What restoring needs of the broker. */
export interface RestoreTarget {
  readonly functions: FunctionTable;
  /** Set when jobs are stored as they come (their rows are removed when they end). */
  readonly store: unknown;
  nextHandle(): string;
  admit(job: Job): void;
}

/**
 * At start: the rows a persistent queue kept, as background jobs in their priority queues, in
 * stored order (gearmand's table has no reducer column: a stored reduce job comes back plain).
 */
export function restoreJobs(broker: RestoreTarget, rows: StoredJob[]): void {
  for (const row of rows) {
    const problem = restoreProblem(row);
    if (problem) throw problem;
    const fn = broker.functions.getOrCreate(row.fn);
    const key = coalescingKey(row.unique, row.data);
    if (key !== undefined && fn.uniques.has(key)) continue;
    const when = row.whenSeconds * 1000;
    const job = new Job({ handle: broker.nextHandle(), fn, unique: row.unique, key, data: row.data, reducer: '', priority: row.priority, background: true, when });
    job.stored = broker.store !== undefined;
    broker.admit(job);
  }
}

/** The error for a stored row whose function or unique a submit could not carry; undefined when fine. */
export function restoreProblem(row: StoredJob): InputError | undefined {
  const refused = submitProblem(row.fn, row.unique);
  if (!refused) return undefined;
  return new InputError(`Queue holds a job of function ${JSON.stringify(row.fn.slice(0, 80))} with unique ${JSON.stringify(row.unique.slice(0, 80))} that no submit could make: ${refused[1]}`);
}

/** Every live background job (queued, scheduled or running), for --store-queue-on-shutdown. */
export function backgroundJobs(jobs: Iterable<Job>): StoredJob[] {
  return [...jobs].filter((job) => job.background).map(storedJob);
}
