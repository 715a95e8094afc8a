/**
 * A job held by the embedded server, and the FIFO it waits in.
 *
 * The FIFO is an intrusive doubly linked list: the links live on the job, so push, shift and
 * removing a job from the middle (its last client left, `cancel job`) are O(1) and allocate
 * nothing. A job is in at most one queue at a time.
 */
import type { FunctionRecord } from './functions.ts';
import type { ServerConnection } from './server-connection.ts';

/** gearmand's three queues per function, in grab order. */
export const PRIORITY_HIGH = 0;
export const PRIORITY_NORMAL = 1;
export const PRIORITY_LOW = 2;
export type Priority = typeof PRIORITY_HIGH | typeof PRIORITY_NORMAL | typeof PRIORITY_LOW;
export const PRIORITIES: readonly Priority[] = [PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW];

/** scheduled: an EPOCH job waiting for its time; queued: in a FIFO; running: assigned to a worker. */
export type JobState = 'scheduled' | 'queued' | 'running';

export class Job {
  readonly handle: string;
  readonly fn: FunctionRecord;
  /** The unique as submitted ('' when none, '-' stays '-': that is what workers and admin see). */
  readonly unique: string;
  /** The coalescing key in `fn.uniques`, or undefined when this job never coalesces. */
  readonly key: string | undefined;
  readonly data: Buffer;
  /** SUBMIT_REDUCE_JOB*'s reducer function ('' for other jobs). */
  readonly reducer: string;
  readonly priority: Priority;
  /** True when any submitter asked for a background job: it runs even with no client attached. */
  background: boolean;
  /** EPOCH jobs: when to run, in ms since 1970; 0 for "now". */
  readonly when: number;
  state: JobState = 'queued';
  /** Attempts that ended with a requeue (worker gone, CANT_DO, timeout), as gearmand counts them. */
  retries = 0;
  numerator = '0';
  denominator = '0';
  /** Foreground submitters, one entry per submit (a connection that submitted twice is here twice). */
  clients: ServerConnection[] = [];
  worker: ServerConnection | undefined;
  /** The CAN_DO_TIMEOUT timer while running, the epoch timer while scheduled. */
  timer: NodeJS.Timeout | undefined;
  /** Cancelled, or every client left while it ran: the worker's result goes nowhere. */
  ignored = false;

  /** FIFO links (see JobQueue). */
  prev: Job | undefined;
  next: Job | undefined;
  queue: JobQueue | undefined;

  constructor(init: {
    handle: string;
    fn: FunctionRecord;
    unique: string;
    key: string | undefined;
    data: Buffer;
    reducer: string;
    priority: Priority;
    background: boolean;
    when: number;
  }) {
    this.handle = init.handle;
    this.fn = init.fn;
    this.unique = init.unique;
    this.key = init.key;
    this.data = init.data;
    this.reducer = init.reducer;
    this.priority = init.priority;
    this.background = init.background;
    this.when = init.when;
  }
}

export class JobQueue {
  #head: Job | undefined;
  #tail: Job | undefined;
  length = 0;

  push(job: Job): void {
    job.queue = this;
    job.prev = this.#tail;
    job.next = undefined;
    if (this.#tail) this.#tail.next = job;
    else this.#head = job;
    this.#tail = job;
    this.length++;
  }

  shift(): Job | undefined {
    const job = this.#head;
    if (job) this.remove(job);
    return job;
  }

  /** Unlinks a job that is in this queue. */
  remove(job: Job): void {
    if (job.queue !== this) return;
    if (job.prev) job.prev.next = job.next;
    else this.#head = job.next;
    if (job.next) job.next.prev = job.prev;
    else this.#tail = job.prev;
    job.prev = undefined;
    job.next = undefined;
    job.queue = undefined;
    this.length--;
  }

  *[Symbol.iterator](): IterableIterator<Job> {
    for (let job = this.#head; job; job = job.next) yield job;
  }
}
