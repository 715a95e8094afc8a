/**
 * What a handler receives: the assigned job (JOB_ASSIGN_UNIQ) and the WORK_* packets it may send
 * while it runs. Once the job has finished, or was taken back by the server (connection lost,
 * CAN_DO_TIMEOUT, CANT_DO), progress calls are ignored: gearmand would answer a WORK_* for a job
 * it no longer assigns to us with ERROR JOB_NOT_FOUND.
 */
import { UsageError } from '../errors.ts';
import type { Packet } from '../protocol/packets.ts';

export interface WorkerJob {
  readonly handle: string;
  readonly fn: string;
  readonly unique: string;
  readonly payload: Buffer;
  /** `host:port` of the server that assigned the job. */
  readonly server: string;
  /** Aborted when the result can no longer be delivered (server lost, timeout, unregister, close). */
  readonly signal: AbortSignal;
  /** WORK_STATUS: progress as two non-negative integers (e.g. 3 of 10). */
  sendStatus(numerator: number, denominator: number): void;
  /** WORK_DATA: a partial result, forwarded to foreground clients in order. */
  sendData(data: Buffer | string): void;
  /** WORK_WARNING: forwarded to foreground clients. */
  sendWarning(data: Buffer | string): void;
  /**
   * WORK_DATA that respects socket backpressure: resolves once the socket can take more.
   * Use it when streaming many or large chunks.
   */
  writeData(data: Buffer | string): Promise<void>;
  /**
   * Sends what was written so far at once instead of at the end of this event-loop turn: for code
   * that runs long without yielding, whose status and data would otherwise wait until it does.
   */
  flush(): void;
}

/** A job's code: its return value is the WORK_COMPLETE result (nothing = empty); a throw fails the job. */
export type JobHandler = (
  job: WorkerJob,
) => Promise<Buffer | Uint8Array | string | void> | Buffer | Uint8Array | string | void;

/** How a job reaches its server: the connection it was assigned on. */
export interface JobSink {
  send(packet: Packet): boolean;
  drained(): Promise<void>;
  flush(): void;
}

export interface JobFields {
  handle: string;
  fn: string;
  unique: string;
  payload: Buffer;
  server: string;
}

function toBuffer(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function count(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`sendStatus ${name} must be a non-negative integer, received ${String(value)}`);
  }
  return String(value);
}

/** The worker's side of a WorkerJob: it finishes, drops and times the job. */
export class ActiveJob implements WorkerJob {
  readonly handle: string;
  readonly fn: string;
  readonly unique: string;
  readonly payload: Buffer;
  readonly server: string;
  readonly #sink: JobSink;
  readonly #controller = new AbortController();
  #finished = false;
  #dropReason: Error | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(fields: JobFields, sink: JobSink) {
    this.handle = fields.handle;
    this.fn = fields.fn;
    this.unique = fields.unique;
    this.payload = fields.payload;
    this.server = fields.server;
    this.#sink = sink;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the server no longer holds this job for us, if it does not. */
  get dropReason(): Error | undefined {
    return this.#dropReason;
  }

  /** True while results for this job may still be sent to the server. */
  get live(): boolean {
    return !this.#finished && this.#dropReason === undefined;
  }

  sendStatus(numerator: number, denominator: number): void {
    if (!this.live) return;
    const num = count('numerator', numerator);
    const den = count('denominator', denominator);
    this.#sink.send({ type: 'WORK_STATUS', handle: this.handle, numerator: num, denominator: den });
  }

  sendData(data: Buffer | string): void {
    if (this.live) this.#sink.send({ type: 'WORK_DATA', handle: this.handle, data: toBuffer(data) });
  }

  sendWarning(data: Buffer | string): void {
    if (this.live) this.#sink.send({ type: 'WORK_WARNING', handle: this.handle, data: toBuffer(data) });
  }

  flush(): void {
    this.#sink.flush();
  }

  async writeData(data: Buffer | string): Promise<void> {
    if (!this.live) return;
    this.#sink.send({ type: 'WORK_DATA', handle: this.handle, data: toBuffer(data) });
    await this.#sink.drained();
  }

  /** True while a CAN_DO_TIMEOUT timer runs for this job. */
  get timed(): boolean {
    return this.#timer !== undefined;
  }

  /** Arms a timer that runs while the job does (cleared by finish/drop). */
  setTimer(ms: number, onExpire: () => void): void {
    this.#timer = setTimeout(onExpire, ms);
  }

  /**
   * The handler settled: no more progress packets. Returns true if the final packet should be
   * sent (the job is still ours), false if it was dropped.
   */
  finish(): boolean {
    const live = this.live;
    this.#finished = true;
    this.#clearTimer();
    return live;
  }

  /** The server no longer holds the job for us: ignore further sends and abort the handler. */
  drop(reason: Error): void {
    this.#clearTimer();
    if (!this.live) return;
    this.#dropReason = reason;
    this.#controller.abort(reason);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
