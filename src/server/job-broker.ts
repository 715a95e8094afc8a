/**
 * The job logic of the embedded server: submits, coalescing, grabs, results, requeues, wake-ups.
 * Like gearmand's single processing thread, it owns every queue and map and runs synchronously on
 * the event loop; connections call it with their Session and decoded packets, and it replies
 * through each session's Peer. It knows no socket, so it is tested with fake peers.
 *
 * Grab order is gearmand 2.0's: "Priority is applied globally across registered functions"
 * (PROTOCOL, 2.0.0), round-robin among them; 1.1.x differs (docs/SERVER.md).
 */
import { PACKETS, type Packet } from '../protocol/index.ts';
import type { AdminBroker } from './admin-commands.ts';
import { AdminView } from './admin-view.ts';
import { knownFunctionSubmitProblem, memoryProblem, submitProblem, type Refusal } from './admission.ts';
import { FunctionTable } from './functions.ts';
import { JobTable } from './job-table.ts';
import type { Peer } from './peer.ts';
import { JobStore } from './queue/job-store.ts';
import { rowUnique } from './queue/stored-jobs.ts';
import type { QueueStore } from './queue/queue-store.ts';
import { Job, NO_CLIENTS, PRIORITY_HIGH, PRIORITY_LOW, Session, type Ability, type Priority } from './records.ts';
import { coalescingKey, epochMs, ownPayload, submitKind, type SubmitPacket } from './submit.ts';
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
  /** Payload bytes all live jobs may hold; 0: no limit. */
  maxMemory: number;
  /** Called after timer-driven writes (epoch, CAN_DO_TIMEOUT) so batched writes reach the sockets. */
  flush: () => void;
  log: (line: string) => void;
  /** The persistent queue, if any, and how to get a commit before this turn's replies leave. */
  queue?: QueueStore;
  scheduleCommit?: () => void;
}

const JOB_CREATED = PACKETS.JOB_CREATED.code;
const WORK_FAIL = PACKETS.WORK_FAIL.code;
const WORK_COMPLETE = PACKETS.WORK_COMPLETE.code;

export class JobBroker {
  readonly functions = new FunctionTable();
  /** Every live job by handle: queued, scheduled and running. */
  readonly jobs = new JobTable();
  readonly registry: WorkerRegistry;
  /** What admin commands see and change. */
  readonly admin: AdminBroker;
  running = 0;
  /** EPOCH jobs waiting for their time, across all functions. */
  #scheduled = 0;
  /** Payload bytes of every live job, for the maxMemory budget. */
  #heldBytes = 0;
  /** close(): grabs get NO_JOB. */
  draining = false;
  /** `shutdown graceful`: called when no job is left queued or running. */
  onIdle: (() => void) | undefined;
  /** After failAll(): connections closing later have nothing to requeue or notify. */
  closed = false;
  readonly #options: BrokerOptions;
  readonly #sessions = new Set<Session>();
  #nextHandle = 0;
  readonly #handlePrefix: string; // `${jobHandlePrefix}:`, joined once
  /** Stores background jobs as they come (not with storeOnShutdown: that saves at close). */
  readonly store: JobStore | undefined;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#handlePrefix = `${options.jobHandlePrefix}:`;
    if (options.queue && !options.queue.storeOnShutdown) {
      this.store = new JobStore(options.queue, options.scheduleCommit ?? options.flush, (job) => this.#unstored(job));
    }
    this.registry = new WorkerRegistry(this.functions, (job) => this.requeue(job));
    this.admin = new AdminView(this.functions, this.jobs, this.#sessions, (handle) => this.cancel(handle));
  }

  /** A peer connected: its session is what it passes to every later call. */
  open(peer: Peer): Session {
    const session = new Session(peer);
    this.#sessions.add(session);
    return session;
  }

  submit(session: Session, p: SubmitPacket): void {
    // Every record's name was checked when it was made (CAN_DO, submit, `create function`, replay).
    const known = this.functions.get(p.fn);
    const refused = known === undefined ? submitProblem(p.fn, p.unique) : knownFunctionSubmitProblem(p.unique);
    if (refused) return session.peer.sendError(refused[0], refused[1]);
    const { priority, background } = submitKind(p.type);
    const fn = known ?? this.functions.getOrCreate(p.fn);
    const key = coalescingKey(p.unique, p.data);
    const existing = key === undefined ? undefined : fn.uniques.get(key);
    if (existing) {
      // First submit wins payload and priority; every foreground submitter is attached, and a
      // running job whose clients had all left is wanted again.
      existing.ignored = false;
      if (background) existing.background = true;
      else this.#attach(existing, session);
      if (background && this.store && !existing.stored) return this.store.persist(existing, session);
      return session.peer.send(JOB_CREATED, undefined, existing.handle);
    }
    const limit = fn.maxQueue[priority];
    const full: Refusal | undefined = limit > 0 && fn.total >= limit ? ['QUEUE_ERROR', 'Job queue is full'] : memoryProblem(this.#heldBytes, p.data.length, this.#options.maxMemory);
    if (full) {
      this.functions.release(fn);
      return session.peer.sendError(full[0], full[1]);
    }
    const when = p.type === 'SUBMIT_JOB_EPOCH' ? epochMs(p.epoch) : 0;
    const unique = background && this.#options.queue ? rowUnique(p.unique) : p.unique;
    const reducer = p.type === 'SUBMIT_REDUCE_JOB' || p.type === 'SUBMIT_REDUCE_JOB_BACKGROUND' ? p.reducer : '';
    const job = new Job({ handle: this.nextHandle(), fn, unique, key, data: ownPayload(p.data), reducer, priority, background, when });
    this.#register(job);
    if (!background) this.#attach(job, session);
    if (background && this.store) this.store.persist(job, session);
    else session.peer.send(JOB_CREATED, undefined, job.handle);
    this.#start(job);
  }

  nextHandle(): string {
    return this.#handlePrefix + String(++this.#nextHandle);
  }

  #register(job: Job): void {
    this.jobs.add(job);
    this.#heldBytes += job.data.length;
    if (job.key !== undefined) job.fn.uniques.set(job.key, job);
  }

  #start(job: Job): void {
    if (job.when > 0 && job.when > Date.now()) this.#schedule(job);
    else this.#enqueue(job);
  }

  /** A background job the queue could not store: it stays only for the foreground clients it has. */
  #unstored(job: Job): void {
    if (this.jobs.get(job.handle) !== job) return;
    if (job.clients.length > 0) job.background = false;
    else this.#finish(job);
  }

  /** A job made elsewhere (restoreJobs: a persistent queue's rows at start), queued as if submitted. */
  admit(job: Job): void {
    this.#register(job);
    this.#start(job);
  }

  #attach(job: Job, session: Session): void {
    if (job.clients.length === 0) job.clients = [session]; // NO_CLIENTS; push() onto [] reserves room for 16
    else job.clients.push(session);
    session.attached.add(job, session);
  }

  #enqueue(job: Job): void {
    job.state = 'queued';
    job.fn.queues[job.priority].push(job);
    this.registry.wakeFunction(job.fn);
  }

  /** EPOCH: a real timer per job, so sleeping workers are woken when the time comes (1.1.x bug #101). */
  #schedule(job: Job): void {
    job.state = 'scheduled';
    job.fn.scheduled++;
    this.#scheduled++;
    const arm = (): void => {
      const delay = job.when - Date.now();
      if (delay > 0) {
        job.timer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS));
        return;
      }
      job.timer = undefined;
      job.fn.scheduled--;
      this.#scheduled--;
      this.#enqueue(job);
      this.#options.flush();
    };
    arm();
  }

  /**
   * GRAB_JOB*: the highest priority across all the worker's functions; among functions, newest
   * registration first, and the one served moves to the end of the order (round-robin).
   */
  grab(session: Session, type: GrabType): void {
    this.registry.awake(session);
    const order = session.grabOrder;
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
          return this.#assign(session, type, job, ability.timeoutMs);
        }
      }
    }
    session.peer.sendNoJob();
  }

  #assign(session: Session, type: GrabType, job: Job, timeoutMs: number): void {
    job.state = 'running';
    job.worker = session;
    job.fn.running++;
    this.running++;
    session.jobs.add(job);
    if (timeoutMs > 0) job.timer = setTimeout(() => this.#timedOut(job), timeoutMs);
    const { handle, fn, unique, data } = job;
    if (type === 'GRAB_JOB') session.peer.send(PACKETS.JOB_ASSIGN.code, data, handle, fn.name);
    else if (type === 'GRAB_JOB_ALL' && job.reducer !== '') {
      session.peer.send(PACKETS.JOB_ASSIGN_ALL.code, data, handle, fn.name, unique, job.reducer);
    } else session.peer.send(PACKETS.JOB_ASSIGN_UNIQ.code, data, handle, fn.name, unique);
  }

  #timedOut(job: Job): void {
    job.timer = undefined;
    this.#options.log(`job ${job.handle} (${job.fn.name}) exceeded its CAN_DO_TIMEOUT; requeued`);
    this.requeue(job);
    this.#options.flush();
  }

  /** The worker's WORK_* packet. Only the connection running the job may send them. */
  work(session: Session, p: WorkPacket): void {
    const job = this.jobs.get(p.handle);
    if (!job || job.worker !== session) return session.peer.sendError('JOB_NOT_FOUND', 'Job given in work result not found');
    switch (p.type) {
      case 'WORK_COMPLETE':
        this.#toClients(job, WORK_COMPLETE, p.data);
        return this.#finish(job);
      case 'WORK_STATUS':
        job.numerator = p.numerator;
        job.denominator = p.denominator;
        for (const client of job.clients) client.peer.send(PACKETS.WORK_STATUS.code, undefined, p.handle, p.numerator, p.denominator);
        return;
      case 'WORK_DATA':
      case 'WORK_WARNING':
        return this.#toClients(job, PACKETS[p.type].code, p.data);
      case 'WORK_FAIL':
        this.#toClients(job, WORK_FAIL, undefined);
        return this.#finish(job);
      case 'WORK_EXCEPTION':
        // Clients without OPTION_REQ "exceptions" get WORK_FAIL (without 1.1.20's stray NUL).
        for (const client of job.clients) {
          if (client.peer.exceptions) client.peer.send(PACKETS.WORK_EXCEPTION.code, p.data, job.handle);
          else client.peer.send(WORK_FAIL, undefined, job.handle);
        }
        return this.#finish(job);
      default: {
        const exhaustive: never = p;
        throw new Error(`not a work packet: ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  /**
   * WORK_COMPLETE straight from the worker's frame, `buf[from, to)` (the hot path at many jobs in
   * flight): the job is found by its handle's bytes and the result copied from them, with no
   * handle string, payload view or packet made. False, with nothing done, when the frame needs the
   * general path: no NUL (the short form), a handle that is not a live job's ASCII handle, or a
   * job this connection does not run (the general path answers those with JOB_NOT_FOUND).
   */
  completeFrom(session: Session, buf: Buffer, from: number, to: number): boolean {
    let nul = from;
    while (nul < to && buf[nul] !== 0) nul++;
    if (nul === to) return false;
    const job = this.jobs.getBytes(buf, from, nul);
    if (!job || job.worker !== session) return false;
    for (const client of job.clients) client.peer.sendFrom(WORK_COMPLETE, job.handle, buf, nul + 1, to);
    this.#finish(job);
    return true;
  }

  /** A packet about the job (its handle, then `data` if given) to every attached client. */
  #toClients(job: Job, code: number, data: Buffer | undefined): void {
    for (const client of job.clients) client.peer.send(code, data, job.handle);
  }

  /** Forgets a job: the handle and unique are free again, and status says unknown. */
  #finish(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    if (job.queue) job.queue.remove(job);
    if (job.state === 'scheduled') {
      job.fn.scheduled--;
      this.#scheduled--;
    }
    if (job.worker) {
      job.worker.jobs.delete(job);
      job.worker = undefined;
      job.fn.running--;
      this.running--;
    }
    for (const client of job.clients) client.attached.released();
    job.clients = NO_CLIENTS; // a later disconnect finds nothing to drop
    this.jobs.delete(job);
    this.store?.finished(job);
    this.#heldBytes -= job.data.length;
    if (job.key !== undefined && job.fn.uniques.get(job.key) === job) job.fn.uniques.delete(job.key);
    this.functions.release(job.fn);
    this.#checkIdle();
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
    this.#checkIdle();
  }

  /** Jobs queued or running (EPOCH jobs waiting for their time do not count). */
  get outstanding(): number {
    return this.jobs.size - this.#scheduled;
  }

  #checkIdle(): void {
    if (this.onIdle && this.outstanding === 0) this.onIdle();
  }

  /** A connection closed: its running jobs are requeued, its queued foreground jobs may be orphaned. */
  disconnect(session: Session): void {
    this.#sessions.delete(session);
    if (this.closed) return;
    this.registry.disconnect(session);
    for (const job of session.attached.take()) {
      if (!job.clients.includes(session)) continue; // finished, cancelled, or listed twice
      job.clients = job.clients.filter((client) => client !== session);
      if (job.clients.length > 0 || job.background) continue;
      // "a queued foreground job whose clients all left is dropped"; a running one finishes unseen.
      if (job.state === 'running') job.ignored = true;
      else this.#finish(job);
    }
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
    for (const client of job.clients) client.attached.released();
    job.clients = NO_CLIENTS;
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
