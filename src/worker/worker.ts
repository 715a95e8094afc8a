/**
 * A Gearman worker: registers functions on every configured job server, grabs jobs with
 * GRAB_JOB_UNIQ, runs at most `concurrency` handlers at once across all servers, and sends each
 * handler's outcome back to the server that assigned the job.
 *
 * Grab loop (reference §3.5): a link has at most one GRAB outstanding, sent only while a slot is
 * free (GrabScheduler); after NO_JOB it sends PRE_SLEEP and waits for NOOP (ServerLink states).
 *
 * Lost connections: gearmand requeues the jobs of a closed worker connection (§3.7), so we abort
 * and quietly drop them; on reconnect SET_CLIENT_ID and every CAN_DO(_TIMEOUT) are sent again.
 */
import { EventEmitter } from 'node:events';
import { AbortError, ClosedError, ConnectionError, ProtocolError, ServerError, TimeoutError, UsageError } from '../errors.ts';
import type { Packet } from '../protocol/packets.ts';
import { GrabScheduler } from './grab-scheduler.ts';
import { toError, toResultBuffer } from './job-result.ts';
import { ServerLink } from './server-link.ts';
import type { WorkerEvents } from './worker-events.ts';
import { ActiveJob, type JobHandler } from './worker-job.ts';
import { readWorkerPacket } from './worker-packet.ts';
import { resolveWorkerOptions, validateRegistration, type RegisterOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.ts';

export type { RegisterOptions, WorkerOptions } from './worker-options.ts';
export type { JobHandler, WorkerJob } from './worker-job.ts';
export type { WorkerEvents } from './worker-events.ts';

interface Registration {
  handler: JobHandler;
  timeout: number | undefined;
}

type Phase = 'new' | 'started' | 'draining' | 'closed';

export class Worker extends EventEmitter<WorkerEvents> {
  readonly #options: ResolvedWorkerOptions;
  readonly #registrations = new Map<string, Registration>();
  /** Handlers that have not settled yet, including dropped ones still running. */
  readonly #active = new Set<ActiveJob>();
  #links: ServerLink[] = [];
  #phase: Phase = 'new';
  readonly #grabs = new GrabScheduler();
  #starting: Promise<void> | undefined;
  #startSettle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;

  constructor(options?: WorkerOptions) {
    super();
    this.#options = resolveWorkerOptions(options);
  }

  get running(): number {
    return this.#active.size;
  }

  register(fn: string, handler: JobHandler, options?: RegisterOptions): this {
    const timeout = validateRegistration(fn, options);
    if (typeof handler !== 'function') throw new UsageError(`Handler for "${fn}" must be a function`);
    if (this.#phase === 'closed' || this.#phase === 'draining') throw new ClosedError('Worker');
    const previous = this.#registrations.get(fn);
    if (previous && previous.timeout === timeout) {
      previous.handler = handler; // gearmand counts a repeated CAN_DO twice: send nothing.
      return this;
    }
    if (previous) this.#cantDo(fn, 'was registered again with another timeout');
    this.#registrations.set(fn, { handler, timeout });
    for (const link of this.#links) {
      if (!link.connected) continue; // sent on connect
      link.canDo(fn, timeout);
      // Jobs queued before this CAN_DO do not wake a sleeping link: look for them now.
      if (link.state === 'sleeping') link.state = 'idle';
    }
    this.#pump();
    return this;
  }

  unregister(fn: string): this {
    if (this.#registrations.delete(fn)) this.#cantDo(fn, 'was unregistered');
    return this;
  }

  /**
   * Connects to every server (the ones that are down keep being retried) and starts grabbing.
   * Resolves once one server is connected; rejects with a ConnectionError naming every server
   * when none answers within startTimeoutMs (the worker can then be started again).
   */
  start(): Promise<void> {
    if (this.#phase === 'draining' || this.#phase === 'closed') return Promise.reject(new ClosedError('Worker'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#phase = 'started';
    this.#links = this.#options.servers.map((server) => this.#createLink(server));
    const connected = new Promise<void>((resolve, reject) => {
      this.#startSettle = { resolve, reject };
    });
    for (const link of this.#links) link.connection.start();
    const ms = this.#options.startTimeoutMs;
    const timer = setTimeout(() => {
      const tried = this.#links.map((l) => `${l.address} (${l.lastError?.message ?? 'no answer'})`);
      this.#startSettle?.reject(new ConnectionError(`No job server answered within ${ms} ms: ${tried.join('; ')}`));
    }, ms);
    try {
      await connected;
    } catch (error) {
      if (this.#phase === 'started') {
        // Give up this attempt entirely: no sockets or reconnect timers stay behind.
        const links = this.#links;
        this.#links = [];
        this.#phase = 'new';
        this.#starting = undefined;
        await Promise.allSettled(links.map((link) => link.connection.close()));
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#startSettle = undefined;
    }
  }

  #createLink(server: { host: string; port: number }): ServerLink {
    const link = new ServerLink(server, this.#options, (l, packet) => this.#onPacket(l, packet));
    link.connection.on('connect', () => {
      this.#grabs.settled(link.reset());
      if (this.#options.clientId !== undefined) link.connection.send({ type: 'SET_CLIENT_ID', id: this.#options.clientId });
      for (const [fn, registration] of this.#registrations) link.canDo(fn, registration.timeout);
      this.#startSettle?.resolve();
      this.#emitSafely('connect', link.address);
      this.#pump();
    });
    link.connection.on('disconnect', (error) => {
      this.#grabs.settled(link.reset());
      // gearmand requeues these jobs (§3.7); their results cannot be delivered any more.
      for (const job of link.takeJobs()) job.drop(error);
      if (this.#phase !== 'closed') this.#emitSafely('disconnect', link.address, error);
      this.#checkIdle();
      this.#pump();
    });
    return link;
  }

  #onPacket(link: ServerLink, packet: Packet): void {
    const input = readWorkerPacket(packet);
    switch (input.kind) {
      case 'noop':
        // One NOOP per PRE_SLEEP wakes the loop once. A NOOP that arrives while a GRAB is
        // outstanding (it answers an earlier PRE_SLEEP) is ignored: the grab's answer is still
        // coming, and a NO_JOB is always followed by a new PRE_SLEEP, which gearmand answers with
        // an immediate NOOP if work is pending, so no wake-up is lost and no second grab is sent.
        if (link.state !== 'sleeping') return;
        link.state = 'idle';
        return this.#pump();
      case 'no-job':
        if (link.pending === 0) return this.#emitError(new ProtocolError(`NO_JOB from ${link.address} without an outstanding GRAB_JOB_UNIQ`));
        link.pending--;
        this.#grabs.settled();
        link.burst = false;
        if (link.pending > 0) link.state = 'draining';
        else if (this.#phase === 'started') link.sleep();
        else link.state = 'idle';
        break;
      case 'assign':
        if (link.pending === 0) {
          // We cannot hand the job back except by disconnecting, which makes gearmand requeue it.
          this.#emitError(new ProtocolError(`${input.type} ${input.handle} from ${link.address} without an outstanding GRAB_JOB_UNIQ`));
          return link.connection.destroySocket();
        }
        link.pending--;
        this.#grabs.settled();
        if (link.state === 'draining') {
          if (link.pending === 0) {
            if (this.#phase === 'started') link.sleep();
            else link.state = 'idle';
          }
        } else link.burst = true;
        this.#assign(link, input.handle, input.fn, input.unique, input.payload);
        break;
      case 'error': // e.g. JOB_NOT_FOUND for a result that raced a CAN_DO_TIMEOUT expiry on the server
        if (link.pending > 0 && isUnknownCommand(input.code, input.text)) {
          // The Perl Gearman::Server has no GRAB_JOB_UNIQ: this ERROR answers our grab.
          link.plainGrab = true;
          link.pending--;
          this.#grabs.settled();
          link.state = 'idle';
          break;
        }
        return this.#emitError(new ServerError(input.code, input.text));
      case 'ignore':
        return;
      case 'unexpected':
        return this.#emitError(new ProtocolError(`Unexpected ${input.type} from job server ${link.address}: a worker expects NOOP, NO_JOB, JOB_ASSIGN_UNIQ or ERROR`));
    }
    this.#checkIdle();
    this.#pump();
  }

  #assign(link: ServerLink, handle: string, fn: string, unique: string, payload: Buffer): void {
    const registration = this.#registrations.get(fn);
    // A grab answered just before our CANT_DO reached the server: gearmand requeued the job when
    // it processed the CANT_DO, so it is not ours to run.
    if (!registration || this.#phase === 'closed') return;
    const job = new ActiveJob({ handle, fn, unique, payload, server: link.address }, link.connection);
    link.jobs.set(handle, job);
    this.#active.add(job);
    const timeout = registration.timeout;
    if (timeout !== undefined) {
      // gearmand requeues the job when CAN_DO_TIMEOUT expires and answers a late result with
      // ERROR JOB_NOT_FOUND (§3.8): stop the handler and send nothing.
      job.setTimer(timeout, () => {
        if (link.jobs.get(handle) === job) link.jobs.delete(handle);
        job.drop(new TimeoutError(`Job ${handle} of "${fn}" ran past its ${timeout} ms timeout; the job server requeues it`));
      });
    }
    this.#emitSafely('job:start', job);
    void this.#run(link, job, registration.handler);
  }

  async #run(link: ServerLink, job: ActiveJob, handler: JobHandler): Promise<void> {
    let result: Buffer | undefined;
    let failure: Error | undefined;
    try {
      result = toResultBuffer(await handler(job), job.fn);
    } catch (thrown) {
      failure = toError(thrown);
    }
    if (job.finish()) {
      link.jobs.delete(job.handle);
      if (failure) {
        // See WorkerOptions.failWith for why the default is WORK_WARNING + WORK_FAIL.
        const text = this.#options.failureData ? this.#options.failureData(job, failure) : Buffer.from(failure.message, 'utf8');
        if (this.#options.failWith === 'WORK_EXCEPTION') {
          link.connection.send({ type: 'WORK_EXCEPTION', handle: job.handle, data: text });
        } else {
          if (text.length > 0) link.connection.send({ type: 'WORK_WARNING', handle: job.handle, data: text });
          link.connection.send({ type: 'WORK_FAIL', handle: job.handle });
        }
      } else {
        link.connection.send({ type: 'WORK_COMPLETE', handle: job.handle, data: result ?? Buffer.alloc(0) });
      }
    }
    this.#active.delete(job);
    const reason = job.dropReason ?? failure;
    if (reason) this.#emitSafely('job:fail', job, reason);
    else this.#emitSafely('job:complete', job);
    if (this.#active.size === 0) this.#emitSafely('drain');
    this.#checkIdle();
    this.#pump();
  }

  /** Sends GRAB_JOB_UNIQ on idle links while a slot is free (see GrabScheduler). */
  #pump(): void {
    if (this.#phase !== 'started' || this.#registrations.size === 0) return;
    this.#grabs.fill(this.#links, this.#active.size, this.#options.concurrency);
  }

  /** CANT_DO everywhere; gearmand requeues the running jobs of `fn` on it, so we drop them. */
  #cantDo(fn: string, why: string): void {
    const reason = new AbortError(`Function "${fn}" ${why}; the job server requeues its running jobs`);
    for (const link of this.#links) {
      if (link.connection.send({ type: 'CANT_DO', fn })) for (const job of link.takeJobs((j) => j.fn === fn)) job.drop(reason);
    }
  }

  /**
   * Stops grabbing, lets running jobs (and jobs from grabs already sent) finish, then disconnects.
   * With timeoutMs, jobs still running then are aborted and dropped (the server requeues them).
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return Promise.reject(new UsageError(`close timeoutMs must be a non-negative number, received ${String(timeoutMs)}`));
    }
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number | undefined): Promise<void> {
    this.#phase = 'draining';
    this.#startSettle?.reject(new ClosedError('Worker'));
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#onIdle = resolve;
      if (timeoutMs !== undefined) timer = setTimeout(resolve, timeoutMs);
      this.#checkIdle();
    });
    clearTimeout(timer);
    this.#onIdle = undefined;
    this.#phase = 'closed';
    // Jobs still running after timeoutMs: stop them; disconnecting makes the server requeue them.
    const reason = new AbortError(`Worker closed: job still running after ${String(timeoutMs)} ms`);
    for (const job of this.#active) job.drop(reason);
    // Close every link even if one fails, then report the first failure.
    const failed = (await Promise.allSettled(this.#links.map((link) => link.connection.close()))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #checkIdle(): void {
    if (this.#onIdle && this.#active.size === 0 && this.#grabs.outstanding === 0) this.#onIdle();
  }

  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error); // never an unhandled 'error' throw
  }

  /** Emits so that a throwing listener cannot break the worker's bookkeeping. */
  #emitSafely<K extends Exclude<keyof WorkerEvents, 'error'>>(event: K, ...args: WorkerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: WorkerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#emitError(toError(error));
    }
  }
}

/** The Perl Gearman::Server's answer to a packet type it lacks (`CMD_` plus the command's name). */
function isUnknownCommand(code: string, text: string): boolean {
  return code === 'server_error' && text.includes('Can\'t locate object method "CMD_');
}
