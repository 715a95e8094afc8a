/**
 * The server's records and how they point at each other: a Job, the FunctionRecord whose queues
 * hold it, and the Session of each peer (what it can do, what it runs, what it waits for). They
 * refer to each other, so they live together; a Session reaches its socket only through Peer.
 *
 * A FIFO is an intrusive doubly linked list: the links live on the job, so push, shift and
 * removing a job from the middle (its last client left, `cancel job`) are O(1) and allocate
 * nothing. A job is in at most one queue at a time.
 */
import type { Peer } from './peer.ts';

/** gearmand's three queues per function, in grab order. */
export const PRIORITY_HIGH = 0;
export const PRIORITY_NORMAL = 1;
export const PRIORITY_LOW = 2;
export type Priority = typeof PRIORITY_HIGH | typeof PRIORITY_NORMAL | typeof PRIORITY_LOW;
export const PRIORITIES: readonly Priority[] = [PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW];

/** scheduled: an EPOCH job waiting for its time; queued: in a FIFO; running: assigned to a worker. */
export type JobState = 'scheduled' | 'queued' | 'running';

export interface JobInit {
  handle: string;
  fn: FunctionRecord;
  unique: string;
  key: string | undefined;
  data: Buffer;
  reducer: string;
  priority: Priority;
  background: boolean;
  when: number;
}

/**
 * The client list of a job without clients: shared and frozen, so a new job and a finished one
 * allocate no array, and a push onto it throws instead of leaking a session into other jobs.
 */
export const NO_CLIENTS = Object.freeze([] as Session[]) as Session[];

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
  /**
   * Foreground submitters, one entry per submit (a session that submitted twice is here twice).
   * NO_CLIENTS (frozen, shared) when there are none: attaching replaces it, never pushes onto it.
   */
  clients: Session[] = NO_CLIENTS;
  worker: Session | undefined;
  /** The CAN_DO_TIMEOUT timer while running, the epoch timer while scheduled. */
  timer: NodeJS.Timeout | undefined;
  /** Cancelled, or every client left while it ran: the worker's result goes nowhere. */
  ignored = false;
  /** Its row is in the persistent queue (removed when the job ends). */
  stored = false;

  /** FIFO links (see JobQueue). */
  prev: Job | undefined;
  next: Job | undefined;
  queue: JobQueue | undefined;
  /** JobTable: the next job in its hash bucket, and when it was added (creation order). */
  hashNext: Job | undefined;
  created = 0;
  /** Links in its worker's RunningJobs while it runs. */
  runPrev: Job | undefined;
  runNext: Job | undefined;

  constructor(init: JobInit) {
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

/**
 * The jobs one session runs as a worker, oldest first, linked through the jobs (a running job has
 * one worker): taking and finishing jobs allocates nothing, where a Set grew and shrank its table
 * as a worker's running count rose and fell.
 */
export class RunningJobs {
  #head: Job | undefined;
  #tail: Job | undefined;
  size = 0;

  add(job: Job): void {
    job.runPrev = this.#tail;
    job.runNext = undefined;
    if (this.#tail) this.#tail.runNext = job;
    else this.#head = job;
    this.#tail = job;
    this.size++;
  }

  /** Unlinks a job that is in this list (a job not in it is left alone). */
  delete(job: Job): void {
    if (job.runPrev === undefined ? this.#head !== job : job.runPrev.runNext !== job) return;
    if (job.runPrev) job.runPrev.runNext = job.runNext;
    else this.#head = job.runNext;
    if (job.runNext) job.runNext.runPrev = job.runPrev;
    else this.#tail = job.runPrev;
    job.runPrev = undefined;
    job.runNext = undefined;
    this.size--;
  }

  /** A copy, oldest first, for callers that requeue (and so unlink) as they go. */
  toArray(): Job[] {
    const out: Job[] = [];
    for (let job = this.#head; job; job = job.runNext) out.push(job);
    return out;
  }
}

/**
 * The jobs one session waits for as a foreground client. A job drops out by itself when its
 * `clients` no longer name the session, so a job's end costs a count, not a Set deletion (a Set
 * re-allocated its table as jobs came and went); stale entries are dropped once they are more than
 * half of the list. A job the session submitted twice is listed twice.
 */
export class AttachedJobs {
  /** Entries 0..count-1 are in use; the array keeps its length, so steady use allocates nothing. */
  #jobs: (Job | undefined)[] = [];
  #count = 0;
  /** Entries whose job still lists the session (one per attachment). */
  #live = 0;

  add(job: Job, session: Session): void {
    if (this.#count === this.#jobs.length && this.#count > 2 * this.#live + 32) this.#compact(session);
    if (this.#count === this.#jobs.length) this.#jobs.push(job);
    else this.#jobs[this.#count] = job;
    this.#count++;
    this.#live++;
  }

  /** One attachment ended (its job finished or was cancelled). */
  released(): void {
    this.#live--;
  }

  /** Every entry, stale ones too (callers check `job.clients`), and the list starts empty. */
  take(): Job[] {
    const jobs = this.#jobs.slice(0, this.#count) as Job[];
    this.#jobs = [];
    this.#count = 0;
    this.#live = 0;
    return jobs;
  }

  /** Moves the entries still in use to the front; a list far longer than that is cut back. */
  #compact(session: Session): void {
    const jobs = this.#jobs;
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const job = jobs[i] as Job;
      if (job.clients.includes(session)) jobs[kept++] = job;
    }
    jobs.fill(undefined, kept, this.#count);
    this.#count = kept;
    if (jobs.length > 1024 && kept * 4 < jobs.length) jobs.length = Math.max(64, kept * 2);
  }
}

/**
 * Per function: three priority FIFOs, the coalescing map, counters for the admin `status` lines,
 * and the sessions that can run it.
 */
export class FunctionRecord {
  readonly name: string;
  readonly queues: readonly [JobQueue, JobQueue, JobQueue] = [new JobQueue(), new JobQueue(), new JobQueue()];
  /** (unique or payload key) → the queued, scheduled or running job that holds it. */
  readonly uniques = new Map<string, Job>();
  /** EPOCH jobs waiting for their time; gearmand keeps them in the NORMAL queue, so they count there. */
  scheduled = 0;
  running = 0;
  /** Registrations across all sessions; duplicates count, as in gearmand's `status`. */
  workerCount = 0;
  /** Sessions that sent PRE_SLEEP and have not been sent a NOOP since. */
  readonly sleepers = new Set<Session>();
  /** `maxqueue` limits per priority; 0 is unlimited. */
  maxQueue: [number, number, number] = [0, 0, 0];
  /** Made or configured by admin (`create function`, `maxqueue`): kept until `drop function`. */
  pinned = false;

  constructor(name: string) {
    this.name = name;
  }

  /** Jobs a worker could grab now. */
  get queued(): number {
    return this.queues[PRIORITY_HIGH].length + this.queues[PRIORITY_NORMAL].length + this.queues[PRIORITY_LOW].length;
  }

  /** gearmand's TOTAL: queued (epoch jobs included) plus running. */
  get total(): number {
    return this.queued + this.scheduled + this.running;
  }
}

/** One CAN_DO / CAN_DO_TIMEOUT registration of a session (duplicates are kept, as gearmand does). */
export interface Ability {
  readonly fn: FunctionRecord;
  /** CAN_DO_TIMEOUT in ms (at least MIN_CAN_DO_TIMEOUT_MS); 0 for plain CAN_DO. */
  readonly timeoutMs: number;
}

/**
 * The job model's view of one peer: a client, a worker, an admin session, or all three at once
 * ("A connection may be client and worker at once").
 */
export class Session {
  readonly peer: Peer;
  /** Registrations, oldest first (admin `workers` lists them newest first). */
  abilities: Ability[] = [];
  /**
   * The same registrations in grab order: newest first, and the one a job was taken from moves to
   * the end (gearmand 2.0's always-on round-robin).
   */
  grabOrder: Ability[] = [];
  sleeping = false;
  /** Jobs this session runs as a worker. */
  readonly jobs = new RunningJobs();
  /** Jobs this session waits for as a foreground client. */
  readonly attached = new AttachedJobs();

  constructor(peer: Peer) {
    this.peer = peer;
  }
}
