/**
 * The job logic of the embedded server: submits, coalescing, grabs, results, requeues, wake-ups.
 * Like gearmand's single processing thread, it owns every queue and map and runs synchronously on
 * the event loop; connections call it with decoded packets and it writes replies to sockets.
 *
 * Grab order is gearmand 2.0's: "Priority is applied globally across registered functions"
 * (PROTOCOL, 2.0.0), round-robin among them; 1.1.x differs (docs/SERVER.md).
 */
import { PACKETS, type Packet } from '../protocol/index.ts';
import { FunctionTable, type Ability } from './functions.ts';
import { Job, PRIORITY_HIGH, PRIORITY_LOW, type Priority } from './job.ts';
import { MAX_UNIQUE_BYTES, coalescingKey, epochMs, ownPayload, submitKind, type SubmitPacket } from './submit.ts';
import type { ServerConnection } from './server-connection.ts';
import { WorkerRegistry } from './worker-registry.ts';

type WorkType = 'WORK_STATUS' | 'WORK_DATA' | 'WORK_WARNING' | 'WORK_COMPLETE' | 'WORK_FAIL' | 'WORK_EXCEPTION';
export type WorkPacket = Extract<Packet, { type: WorkType }>;
export type GrabType = 'GRAB_JOB' | 'GRAB_JOB_UNIQ' | 'GRAB_JOB_ALL';

/** setTimeout's limit; longer epoch delays are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BrokerOptions {
  jobHandlePrefix: string;
  /** 0: unlimited; N: total attempts, then WORK_FAIL. */
  jobRetries: number;
  /** Called after timer-driven writes (epoch, CAN_DO_TIMEOUT) so batched writes reach the sockets. */
  flush: () => void;
  log: (line: string) => void;
}

const JOB_CREATED = PACKETS.JOB_CREATED.code;
const WORK_FAIL = PACKETS.WORK_FAIL.code;

export class JobBroker {
  readonly functions = new FunctionTable();
  /** Every live job by handle: queued, scheduled and running. */
  readonly jobs = new Map<string, Job>();
  readonly workers: WorkerRegistry;
  running = 0;
  /** `shutdown graceful`: grabs get NO_JOB while running jobs finish. */
  draining = false;
  onIdle: (() => void) | undefined;
  /** After failAll(): connections closing later have nothing to requeue or notify. */
  closed = false;
  readonly #options: BrokerOptions;
  #nextHandle = 0;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.workers = new WorkerRegistry(this.functions, (job) => this.requeue(job));
  }

  submit(conn: ServerConnection, p: SubmitPacket): void {
    if (Buffer.byteLength(p.unique) > MAX_UNIQUE_BYTES) {
      return conn.sendError('ARGUMENT_TOO_LARGE', 'Unique value too large');
    }
    const { priority, background } = submitKind(p.type);
    const fn = this.functions.getOrCreate(p.fn);
    const key = coalescingKey(p.unique, p.data);
    const existing = key === undefined ? undefined : fn.uniques.get(key);
    if (existing) {
      // First submit wins payload and priority; every foreground submitter is attached, and a
      // running job whose clients had all left is wanted again.
      existing.ignored = false;
      if (background) existing.background = true;
      else this.#attach(existing, conn);
      return conn.send(JOB_CREATED, undefined, existing.handle);
    }
    const limit = fn.maxQueue[priority];
    if (limit > 0 && fn.total >= limit) return conn.sendError('QUEUE_ERROR', 'Job queue is full');
    const when = p.type === 'SUBMIT_JOB_EPOCH' ? epochMs(p.epoch) : 0;
    const job = new Job({
      handle: `${this.#options.jobHandlePrefix}:${++this.#nextHandle}`,
      fn,
      unique: p.unique,
      key,
      data: ownPayload(p.data),
      reducer: p.type === 'SUBMIT_REDUCE_JOB' || p.type === 'SUBMIT_REDUCE_JOB_BACKGROUND' ? p.reducer : '',
      priority,
      background,
      when,
    });
    this.jobs.set(job.handle, job);
    if (key !== undefined) fn.uniques.set(key, job);
    if (!background) this.#attach(job, conn);
    conn.send(JOB_CREATED, undefined, job.handle);
    if (when > Date.now()) this.#schedule(job);
    else this.#enqueue(job);
  }

  #attach(job: Job, conn: ServerConnection): void {
    job.clients.push(conn);
    conn.attached.add(job);
  }

  #enqueue(job: Job): void {
    job.state = 'queued';
    job.fn.queues[job.priority].push(job);
    this.workers.wakeFunction(job.fn);
  }

  /** EPOCH: a real timer per job, so sleeping workers are woken when the time comes (1.1.x bug #101). */
  #schedule(job: Job): void {
    job.state = 'scheduled';
    job.fn.scheduled++;
    const arm = (): void => {
      const delay = job.when - Date.now();
      if (delay > 0) {
        job.timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
        return;
      }
      job.timer = undefined;
      job.fn.scheduled--;
      this.#enqueue(job);
      this.#options.flush();
    };
    arm();
  }

  /**
   * GRAB_JOB*: the highest priority across all the worker's functions; among functions, newest
   * registration first, and the one served moves to the end of the order (round-robin).
   */
  grab(conn: ServerConnection, type: GrabType): void {
    this.workers.awake(conn);
    const order = conn.grabOrder;
    const n = order.length;
    if (!this.draining && n > 0) {
      for (let priority = PRIORITY_HIGH; priority <= PRIORITY_LOW; priority++) {
        for (let i = 0; i < n; i++) {
          const ability = order[i] as Ability;
          const job = ability.fn.queues[priority as Priority].shift();
          if (!job) continue;
          if (i < n - 1) {
            order.splice(i, 1);
            order.push(ability);
          }
          return this.#assign(conn, type, job, ability.timeoutMs);
        }
      }
    }
    conn.sendNoJob();
  }

  #assign(conn: ServerConnection, type: GrabType, job: Job, timeoutMs: number): void {
    job.state = 'running';
    job.worker = conn;
    job.fn.running++;
    this.running++;
    conn.jobs.add(job);
    if (timeoutMs > 0) job.timer = setTimeout(() => this.#timedOut(job), timeoutMs);
    const { handle, fn, unique, data } = job;
    if (type === 'GRAB_JOB') conn.send(PACKETS.JOB_ASSIGN.code, data, handle, fn.name);
    else if (type === 'GRAB_JOB_ALL' && job.reducer !== '') {
      conn.send(PACKETS.JOB_ASSIGN_ALL.code, data, handle, fn.name, unique, job.reducer);
    } else conn.send(PACKETS.JOB_ASSIGN_UNIQ.code, data, handle, fn.name, unique);
  }

  #timedOut(job: Job): void {
    job.timer = undefined;
    this.#options.log(`job ${job.handle} (${job.fn.name}) exceeded its CAN_DO_TIMEOUT; requeued`);
    this.requeue(job);
    this.#options.flush();
  }

  /** The worker's WORK_* packet. Only the connection running the job may send them. */
  work(conn: ServerConnection, p: WorkPacket): void {
    const job = this.jobs.get(p.handle);
    if (!job || job.worker !== conn) return conn.sendError('JOB_NOT_FOUND', 'Job given in work result not found');
    switch (p.type) {
      case 'WORK_STATUS':
        job.numerator = p.numerator;
        job.denominator = p.denominator;
        for (const client of job.clients) client.send(PACKETS.WORK_STATUS.code, undefined, p.handle, p.numerator, p.denominator);
        return;
      case 'WORK_DATA':
      case 'WORK_WARNING':
        return this.#toClients(job, PACKETS[p.type].code, p.data);
      case 'WORK_COMPLETE':
        this.#toClients(job, PACKETS.WORK_COMPLETE.code, p.data);
        return this.#finish(job);
      case 'WORK_FAIL':
        this.#toClients(job, WORK_FAIL, undefined);
        return this.#finish(job);
      case 'WORK_EXCEPTION':
        // Clients without OPTION_REQ "exceptions" get WORK_FAIL (without 1.1.20's stray NUL).
        for (const client of job.clients) {
          if (client.exceptions) client.send(PACKETS.WORK_EXCEPTION.code, p.data, job.handle);
          else client.send(WORK_FAIL, undefined, job.handle);
        }
        return this.#finish(job);
      default: {
        const exhaustive: never = p;
        throw new Error(`not a work packet: ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  /** A packet about the job (its handle, then `data` if given) to every attached client. */
  #toClients(job: Job, code: number, data: Buffer | undefined): void {
    for (const client of job.clients) client.send(code, data, job.handle);
  }

  /** Forgets a job: the handle and unique are free again, and status says unknown. */
  #finish(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    if (job.queue) job.queue.remove(job);
    if (job.state === 'scheduled') job.fn.scheduled--;
    if (job.worker) {
      job.worker.jobs.delete(job);
      job.worker = undefined;
      job.fn.running--;
      this.running--;
    }
    for (const client of job.clients) client.attached.delete(job);
    job.clients = [];
    this.jobs.delete(job.handle);
    if (job.key !== undefined && job.fn.uniques.get(job.key) === job) job.fn.uniques.delete(job.key);
    if (this.running === 0 && this.onIdle) this.onIdle();
  }

  /**
   * Back to the tail of its queue (worker gone, CANT_DO/RESET_ABILITIES, CAN_DO_TIMEOUT): retries+1,
   * status reset, clients not told. Past `jobRetries` attempts it fails instead.
   */
  requeue(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    if (job.worker) {
      job.worker.jobs.delete(job);
      job.worker = undefined;
      job.fn.running--;
      this.running--;
    }
    job.retries++;
    job.numerator = '0';
    job.denominator = '0';
    const limit = this.#options.jobRetries;
    if (limit > 0 && job.retries >= limit) {
      this.#options.log(`job ${job.handle} (${job.fn.name}) failed after ${job.retries} attempts`);
      this.#toClients(job, WORK_FAIL, undefined);
      return this.#finish(job);
    }
    if (job.ignored || (!job.background && job.clients.length === 0)) return this.#finish(job);
    this.#enqueue(job);
    if (this.running === 0 && this.onIdle) this.onIdle();
  }

  /** A connection closed: its running jobs are requeued, its queued foreground jobs may be orphaned. */
  disconnect(conn: ServerConnection): void {
    if (this.closed) return;
    this.workers.disconnect(conn);
    for (const job of conn.attached) {
      job.clients = job.clients.filter((client) => client !== conn);
      if (job.clients.length > 0 || job.background) continue;
      // "a queued foreground job whose clients all left is dropped"; a running one finishes unseen.
      if (job.state === 'running') job.ignored = true;
      else this.#finish(job);
    }
    conn.attached.clear();
  }

  /** Admin `cancel job`: WORK_FAIL to its clients; a queued job is dropped, a running one ignored. */
  cancel(handle: string): boolean {
    const job = this.jobs.get(handle);
    if (!job || job.ignored) return false;
    this.#toClients(job, WORK_FAIL, undefined);
    if (job.state !== 'running') {
      this.#finish(job);
      return true;
    }
    for (const client of job.clients) client.attached.delete(job);
    job.clients = [];
    job.ignored = true;
    // A new submit with this unique starts a new job instead of joining the cancelled one.
    if (job.key !== undefined && job.fn.uniques.get(job.key) === job) job.fn.uniques.delete(job.key);
    return true;
  }

  /**
   * `close()`: every foreground client still waiting gets WORK_FAIL, all timers stop, and later
   * disconnects change nothing. Returns how many background jobs were never run.
   */
  failAll(): number {
    this.closed = true;
    let lost = 0;
    for (const job of this.jobs.values()) {
      if (job.timer) clearTimeout(job.timer);
      job.timer = undefined;
      if (job.background && job.state !== 'running') lost++;
      this.#toClients(job, WORK_FAIL, undefined);
    }
    this.jobs.clear();
    return lost;
  }
}
