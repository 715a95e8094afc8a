/**
 * The Client's record of one submit (foreground or background) while it waits for a window slot,
 * a server, its JOB_CREATED and (foreground) its result. It implements the ServerSlot's view of a
 * job and turns WORK_* packets into JobHandle events or errors; settling goes through the Client,
 * which owns timers, the in-flight window and failover.
 */
import {
  AbortError,
  JobExceptionError,
  JobFailedError,
  OutcomeUnknownError,
  TimeoutError,
  type ServerError,
} from '../errors.ts';
import type { Packet } from '../protocol/packets.ts';
import type { JobController } from './job-handle.ts';
import type { ServerSlot, SlotJob } from './server-slot.ts';

export type Priority = 'high' | 'normal' | 'low';

export type JobState = 'waiting' | 'dispatching' | 'submitted' | 'running' | 'done';

export interface ClientJobSpec {
  fn: string;
  /** What goes on the wire ('' for none). */
  unique: string;
  /** True when the caller chose the unique, so resubmitting after a lost server is idempotent. */
  callerUnique: boolean;
  payload: Buffer;
  priority: Priority;
  /** Unix seconds: SUBMIT_JOB_EPOCH (background only). */
  epoch: number | undefined;
  timeoutMs: number | undefined;
}

export interface ClientJobOwner {
  settle(job: ClientJob, error: Error | undefined, result: Buffer | undefined): void;
  created(job: ClientJob, slot: ServerSlot, handle: string): void;
}

type Outcome =
  | { foreground: true; controller: JobController }
  | { foreground: false; resolve: (handle: string) => void; reject: (error: Error) => void };

export class ClientJob implements SlotJob {
  readonly spec: ClientJobSpec;
  readonly outcome: Outcome;
  state: JobState = 'waiting';
  slot: ServerSlot | undefined;
  handle: string | undefined;
  holdsWindow = false;
  /** Servers to try, in order (set at the first dispatch). */
  candidates: ServerSlot[] | undefined;
  /** The last WORK_WARNING: the failure text a worker sends before WORK_FAIL. */
  #lastWarning: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #cleanupAbort: (() => void) | undefined;
  readonly #owner: ClientJobOwner;

  constructor(spec: ClientJobSpec, outcome: Outcome, owner: ClientJobOwner) {
    this.spec = spec;
    this.outcome = outcome;
    this.#owner = owner;
  }

  get foreground(): boolean {
    return this.outcome.foreground;
  }

  get live(): boolean {
    return this.state !== 'done';
  }

  /** The bytes the server choice hashes: the payload for unique `-` (Perl's rule), else the unique. */
  get key(): Buffer | string | undefined {
    if (!this.spec.callerUnique) return undefined;
    return this.spec.unique === '-' ? this.spec.payload : this.spec.unique;
  }

  /** Where the job is, for timeout and outcome messages. */
  describe(): string {
    switch (this.state) {
      case 'waiting':
        return 'waiting for a free in-flight slot (maxInFlight)';
      case 'dispatching':
        return 'waiting for a reachable job server';
      case 'submitted':
        return `waiting for JOB_CREATED from ${this.slot?.address ?? '?'}`;
      case 'running':
        return `running as ${this.handle ?? '?'} on ${this.slot?.address ?? '?'}`;
      case 'done':
        return 'done';
      default: {
        const exhaustive: never = this.state;
        return exhaustive;
      }
    }
  }

  /** Starts the job's timeout and abort listener; both end in `fail` (the Client's settle). */
  arm(signal: AbortSignal | undefined, fail: (error: Error) => void, notConnected: () => string): void {
    const { fn, timeoutMs } = this.spec;
    if (signal) {
      const onAbort = (): void => {
        fail(new AbortError(`Job "${fn}" was aborted while ${this.describe()}`, { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#cleanupAbort = () => signal.removeEventListener('abort', onAbort);
    }
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(() => {
        fail(
          new TimeoutError(`Job "${fn}" did not finish within ${timeoutMs} ms: it was ${this.describe()}${notConnected()}`),
        );
      }, timeoutMs);
    }
  }

  /** Clears the timer and the abort listener (idempotent). */
  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#cleanupAbort?.();
    this.#cleanupAbort = undefined;
  }

  /** The error for a keyless job whose server was lost while it was in flight. */
  outcomeUnknown(address: string, where: string, cause: Error): OutcomeUnknownError {
    return new OutcomeUnknownError(
      `Outcome unknown for job "${this.spec.fn}": it was in flight on ${address} (${where}) when ` +
        `the connection was lost (${cause.message}); it has no unique key, so it was not resubmitted ` +
        'and may or may not have run',
      { cause },
    );
  }

  packet(): Packet {
    const { fn, unique, payload: data, priority, epoch } = this.spec;
    if (this.foreground) {
      if (priority === 'high') return { type: 'SUBMIT_JOB_HIGH', fn, unique, data };
      if (priority === 'low') return { type: 'SUBMIT_JOB_LOW', fn, unique, data };
      return { type: 'SUBMIT_JOB', fn, unique, data };
    }
    if (epoch !== undefined) return { type: 'SUBMIT_JOB_EPOCH', fn, unique, epoch: String(epoch), data };
    if (priority === 'high') return { type: 'SUBMIT_JOB_HIGH_BG', fn, unique, data };
    if (priority === 'low') return { type: 'SUBMIT_JOB_LOW_BG', fn, unique, data };
    return { type: 'SUBMIT_JOB_BG', fn, unique, data };
  }

  created(slot: ServerSlot, handle: string): void {
    this.#owner.created(this, slot, handle);
  }

  refused(error: ServerError): void {
    this.#owner.settle(this, error, undefined);
  }

  status(numerator: number, denominator: number): void {
    if (this.outcome.foreground) this.outcome.controller.status(numerator, denominator);
  }

  data(chunk: Buffer): void {
    if (this.outcome.foreground) this.outcome.controller.data(chunk);
  }

  warning(chunk: Buffer): void {
    this.#lastWarning = chunk;
    if (this.outcome.foreground) this.outcome.controller.warning(chunk);
  }

  complete(result: Buffer): void {
    this.#owner.settle(this, undefined, result);
  }

  fail(handle: string): void {
    // gmr's Worker (and libgearman-style workers) send the error's message as WORK_WARNING just
    // before WORK_FAIL, since WORK_FAIL carries no text: name it in the error.
    const reason = this.#lastWarning === undefined ? 'the job server sent WORK_FAIL' : `${this.#lastWarning.toString('utf8')} (WORK_FAIL)`;
    this.#owner.settle(this, new JobFailedError(handle, `Job "${this.spec.fn}" (${handle}) failed: ${reason}`), undefined);
  }

  exception(handle: string, text: Buffer): void {
    this.#owner.settle(this, new JobExceptionError(handle, text), undefined);
  }
}
