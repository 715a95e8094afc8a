/**
 * Gearman client: submits foreground and background jobs to one or more job servers.
 *
 * - Server choice: CRC32 of the unique key as Perl Gearman::Client does (see server-ring.ts), so
 *   clients sharing a server list coalesce equal keys; round-robin without a unique. A server that
 *   is down is skipped for the next one in ring order; Connection reconnects with jittered backoff.
 * - A server lost with jobs in flight: jobs with a caller-given unique are resubmitted (coalescing
 *   makes that idempotent); the others fail with OutcomeUnknownError, since they may have run.
 * - At most `maxInFlight` jobs are submitted and unfinished at once; later submits wait in FIFO
 *   order and are not written until a slot frees (backpressure).
 * - Timeouts and abort signals cover the whole life of a submit. Gearman cannot cancel a
 *   foreground job, so the worker may still run it; the client just stops waiting.
 */
import { EventEmitter } from 'node:events';
import {
  AbortError,
  ClosedError,
  ConnectionError,
  type GearmanError,
} from '../errors.ts';
import { MAX_UNIQUE_BYTES } from '../protocol/limits.ts';
import { ClientJob } from './client-job.ts';
import { JobHandle, type JobController } from './job-handle.ts';
import { ServerPool } from './server-pool.ts';
import type { ServerSlot, SlotJob } from './server-slot.ts';

import {
  CLIENT_DEFAULTS as DEFAULTS,
  MAX_REMEMBERED_HANDLES,
  checkName,
  checkPositive,
  buildJobSpec,
  toEpochSeconds,
  toJobStatus,
  toUniqueStatus,
  type BackgroundSubmitOptions,
  type ClientEvents,
  type ClientOptions,
  type JobStatus,
  type SubmitOptions,
  type UniqueStatus,
} from './client-options.ts';
import { withDefaults } from '../defaults.ts';

export class Client extends EventEmitter<ClientEvents> {
  readonly #options: typeof DEFAULTS & ClientOptions;
  readonly #pool: ServerPool;
  /** Every unfinished job, for close(). */
  readonly #jobs = new Set<ClientJob>();
  /** Jobs waiting for a free in-flight slot, in submit order. */
  readonly #waiting: ClientJob[] = [];
  /** Jobs holding a slot but waiting for a server to come up. */
  readonly #parked = new Set<ClientJob>();
  #active = 0;
  #closing: Promise<void> | undefined;

  readonly #jobOwner = {
    settle: (job: ClientJob, error: Error | undefined, result: Buffer | undefined): void =>
      this.#settle(job, error, result),
    created: (job: ClientJob, slot: ServerSlot, handle: string): void => this.#created(job, slot, handle),
  };

  constructor(options: ClientOptions = {}) {
    super();
    this.#options = withDefaults(DEFAULTS, options);
    const { maxInFlight } = this.#options;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a positive integer, received ${String(maxInFlight)}`);
    }
    checkPositive('timeoutMs', this.#options.timeoutMs);
    checkPositive('connectTimeoutMs', this.#options.connectTimeoutMs);
    if (this.#options.clientId !== undefined) checkName('clientId', this.#options.clientId);
    this.#pool = new ServerPool({
      servers: this.#options.servers,
      clientId: this.#options.clientId,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      maxPacketSize: this.#options.maxPacketSize,
      tls: this.#options.tls,
      maxRememberedHandles: MAX_REMEMBERED_HANDLES,
      stateChanged: (slot) => this.#stateChanged(slot),
      lost: (slot, error, jobs) => this.#lost(slot, error, jobs),
      error: (error) => this.#reportError(error),
    });
  }

  /** `host:port` of every server, in hashing order. */
  get servers(): string[] {
    return this.#pool.slots.map((slot) => slot.address);
  }

  /** Submits a foreground job; the handle resolves with the WORK_COMPLETE data. */
  submit(fn: string, payload: Buffer | string = Buffer.alloc(0), options: SubmitOptions = {}): JobHandle {
    let controller!: JobController;
    const handle = new JobHandle(fn, options.unique, (c) => {
      controller = c;
    });
    const spec = buildJobSpec(fn, payload, options, this.#options.timeoutMs, false, undefined);
    this.#start(new ClientJob(spec, { foreground: true, controller }, this.#jobOwner), options.signal);
    return handle;
  }

  /** Submits a background job; resolves with its handle once the server created it. */
  submitBackground(
    fn: string,
    payload: Buffer | string = Buffer.alloc(0),
    options: BackgroundSubmitOptions = {},
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      // Validation errors reject (thrown inside the executor) rather than throw synchronously.
      const epoch = toEpochSeconds(options.epoch, options.priority);
      const spec = buildJobSpec(fn, payload, options, this.#options.timeoutMs, true, epoch);
      this.#start(new ClientJob(spec, { foreground: false, resolve, reject }, this.#jobOwner), options.signal);
    });
  }

  /** GET_STATUS on the server that created the handle (or `server`, or the first server). */
  async getStatus(handle: string, server?: string): Promise<JobStatus> {
    checkName('handle', handle);
    const slot = server === undefined ? this.#pool.ownerOf(handle) : this.#pool.byAddress(server);
    const ready = await this.#pool.ready([slot], 'GET_STATUS');
    const reply = await ready.request({ type: 'GET_STATUS', handle }, 'STATUS_RES');
    if (reply.type !== 'STATUS_RES') throw new TypeError(`expected STATUS_RES, received ${reply.type}`);
    return toJobStatus(reply);
  }

  /** GET_STATUS_UNIQUE on the server the unique hashes to (or the live server it fails over to). */
  async getStatusUnique(unique: string): Promise<UniqueStatus> {
    checkName('unique', unique, MAX_UNIQUE_BYTES);
    const slot = await this.#pool.ready(this.#pool.candidates(unique), 'GET_STATUS_UNIQUE');
    const reply = await slot.request({ type: 'GET_STATUS_UNIQUE', unique }, 'STATUS_RES_UNIQUE');
    if (reply.type !== 'STATUS_RES_UNIQUE') {
      throw new TypeError(`expected STATUS_RES_UNIQUE, received ${reply.type}`);
    }
    return toUniqueStatus(reply);
  }

  /** ECHO_REQ to the next live server; resolves with the bytes echoed back. */
  async echo(data: Buffer | string): Promise<Buffer> {
    const slot = await this.#pool.ready(this.#pool.candidates(undefined), 'ECHO_REQ');
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const reply = await slot.request({ type: 'ECHO_REQ', data: payload }, 'ECHO_RES');
    if (reply.type !== 'ECHO_RES') throw new TypeError(`expected ECHO_RES, received ${reply.type}`);
    return reply.data;
  }

  /** Rejects every unfinished job with ClosedError and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors: unknown[] = [];
    for (const job of [...this.#jobs]) {
      try {
        this.#settle(job, new ClosedError('Client'), undefined);
      } catch (error) {
        errors.push(error);
      }
    }
    try {
      await this.#pool.close();
    } catch (error) {
      errors.push(error);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'Client.close(): several cleanups failed');
  }

  get #closed(): boolean {
    return this.#closing !== undefined;
  }

  #start(job: ClientJob, signal: AbortSignal | undefined): void {
    this.#jobs.add(job);
    if (this.#closed) return this.#settle(job, new ClosedError('Client'), undefined);
    if (signal?.aborted) {
      const error = new AbortError(`Job "${job.spec.fn}" was aborted before it was submitted`, {
        cause: signal.reason,
      });
      return this.#settle(job, error, undefined);
    }
    job.arm(signal, (error) => this.#settle(job, error, undefined), () => this.#downList());
    this.#pool.start();
    if (this.#active < this.#options.maxInFlight) this.#take(job);
    else this.#waiting.push(job);
  }

  #take(job: ClientJob): void {
    this.#active++;
    job.holdsWindow = true;
    job.state = 'dispatching';
    this.#dispatch(job);
  }

  #dispatch(job: ClientJob): void {
    if (!job.live) return;
    this.#parked.delete(job);
    // Chosen once per job, so that waiting and re-dispatching do not advance the round-robin.
    job.candidates ??= this.#pool.candidates(job.key);
    let candidates = job.candidates;
    for (;;) {
      const choice = this.#pool.choose(candidates);
      if ('slot' in choice) {
        if (choice.slot.submit(job, job.packet())) {
          job.state = 'submitted';
          job.slot = choice.slot;
          return;
        }
        // Lost between the check and the write: try the others.
        candidates = candidates.filter((slot) => slot !== choice.slot);
        continue;
      }
      if ('wait' in choice || job.spec.timeoutMs !== undefined) {
        // Wait for a server to come up, bounded by the job's timeout.
        this.#parked.add(job);
        return;
      }
      const error = new ConnectionError(
        `No job server reachable for job "${job.spec.fn}": tried ${this.#pool.describe(candidates)}`,
      );
      return this.#settle(job, error, undefined);
    }
  }

  #created(job: ClientJob, slot: ServerSlot, handle: string): void {
    this.#pool.remember(handle, slot);
    job.handle = handle;
    if (job.outcome.foreground) {
      job.state = 'running';
      job.outcome.controller.created(handle, slot.address);
    } else this.#settle(job, undefined, Buffer.from(handle));
  }

  #settle(job: ClientJob, error: Error | undefined, result: Buffer | undefined): void {
    if (!job.live) return;
    job.state = 'done';
    job.disarm();
    this.#parked.delete(job);
    this.#jobs.delete(job);
    if (job.holdsWindow) {
      job.holdsWindow = false;
      this.#active--;
      while (!this.#closed && this.#active < this.#options.maxInFlight && this.#waiting.length > 0) {
        const next = this.#waiting.shift() as ClientJob;
        if (next.live) this.#take(next);
      }
    }
    const { outcome } = job;
    if (outcome.foreground) {
      if (error) outcome.controller.fail(error);
      else outcome.controller.complete(result ?? Buffer.alloc(0));
    } else if (error) outcome.reject(error);
    else outcome.resolve((result ?? Buffer.alloc(0)).toString());
  }

  #stateChanged(slot: ServerSlot): void {
    if (slot.state === 'up') this.emit('connect', slot.address);
    for (const job of [...this.#parked]) this.#dispatch(job);
  }

  #lost(slot: ServerSlot, error: GearmanError, jobs: SlotJob[]): void {
    this.emit('disconnect', slot.address, error);
    for (const slotJob of jobs) {
      const job = slotJob as ClientJob;
      if (!job.live) continue;
      const where = job.handle === undefined ? 'before its JOB_CREATED arrived' : `as ${job.handle}`;
      job.slot = undefined;
      job.handle = undefined;
      if (job.outcome.foreground) job.outcome.controller.detached();
      if (job.spec.callerUnique) {
        job.state = 'dispatching';
        this.#dispatch(job);
      } else {
        const unknown = job.outcomeUnknown(slot.address, where, error);
        this.#settle(job, unknown, undefined);
      }
    }
  }

  #reportError(error: Error): void {
    // Loud, but a stray packet must not crash the process when nobody listens for 'error'.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error);
  }

  #downList(): string {
    const down = this.#pool.notConnected();
    return down.length > 0 ? ` (not connected: ${down.join(', ')})` : '';
  }
}
