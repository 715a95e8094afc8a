/**
 * A foreground job as the caller sees it: a promise of the WORK_COMPLETE data, typed events for
 * progress, and an async iterator over the same events.
 *
 * The Client drives a JobHandle through the `JobController` it receives from the constructor's
 * executor (the Promise pattern), so none of the driving methods are public.
 */
import { EventEmitter } from 'node:events';

export type JobEvent =
  | { type: 'created'; handle: string; server: string }
  | { type: 'status'; numerator: number; denominator: number }
  | { type: 'data'; data: Buffer }
  | { type: 'warning'; data: Buffer }
  | { type: 'complete'; data: Buffer };

interface JobHandleEvents {
  created: [handle: string];
  status: [numerator: number, denominator: number];
  data: [chunk: Buffer];
  warning: [chunk: Buffer];
}

/** What the Client calls to move a JobHandle along; every call after settling is ignored. */
export interface JobController {
  readonly settled: boolean;
  created(handle: string, server: string): void;
  /** The job left its server (failover): it has no handle until it is created again. */
  detached(): void;
  status(numerator: number, denominator: number): void;
  data(chunk: Buffer): void;
  warning(chunk: Buffer): void;
  complete(result: Buffer): void;
  fail(error: Error): void;
}

interface Waiter {
  resolve: (result: IteratorResult<JobEvent>) => void;
  reject: (error: Error) => void;
}

interface IteratorState {
  queue: JobEvent[];
  waiter: Waiter | undefined;
  done: boolean;
  /** Thrown once by next() after the queue is drained. */
  error: Error | undefined;
}

export class JobHandle
  extends EventEmitter<JobHandleEvents>
  implements PromiseLike<Buffer>, AsyncIterable<JobEvent>
{
  readonly fn: string;
  readonly unique: string | undefined;
  /** The server's job handle, once JOB_CREATED arrived (it changes if the job is resubmitted). */
  handle: string | undefined;
  /** `host:port` of the server the job was created on. */
  server: string | undefined;

  readonly #promise: Promise<Buffer>;
  #settled = false;
  #error: Error | undefined;
  /** Queues of the live iterators; each gets every event from the moment it was created. */
  readonly #iterators = new Set<IteratorState>();
  #result: Buffer | undefined;

  constructor(fn: string, unique: string | undefined, executor: (controller: JobController) => void) {
    super();
    this.fn = fn;
    this.unique = unique;
    let resolvePromise!: (value: Buffer) => void;
    let rejectPromise!: (error: Error) => void;
    this.#promise = new Promise<Buffer>((resolve, reject) => {
      resolvePromise = resolve;
      rejectPromise = reject;
    });
    // A caller that only listens to events must not crash the process with an unhandled
    // rejection; callers that await the handle still see the rejection.
    this.#promise.catch(() => {});
    const isSettled = (): boolean => this.#settled;
    const controller: JobController = {
      get settled(): boolean {
        return isSettled();
      },
      created: (handle, server) => {
        if (this.#settled) return;
        this.handle = handle;
        this.server = server;
        this.#push({ type: 'created', handle, server });
        this.emit('created', handle);
      },
      detached: () => {
        if (this.#settled) return;
        this.handle = undefined;
        this.server = undefined;
      },
      status: (numerator, denominator) => {
        if (this.#settled) return;
        this.#push({ type: 'status', numerator, denominator });
        this.emit('status', numerator, denominator);
      },
      data: (chunk) => {
        if (this.#settled) return;
        this.#push({ type: 'data', data: chunk });
        this.emit('data', chunk);
      },
      warning: (chunk) => {
        if (this.#settled) return;
        this.#push({ type: 'warning', data: chunk });
        this.emit('warning', chunk);
      },
      complete: (result) => {
        if (this.#settled) return;
        this.#settled = true;
        this.#result = result;
        this.#push({ type: 'complete', data: result });
        this.#endIterators(undefined);
        resolvePromise(result);
      },
      fail: (error) => {
        if (this.#settled) return;
        this.#settled = true;
        this.#error = error;
        this.#endIterators(error);
        rejectPromise(error);
      },
    };
    executor(controller);
  }

  then<R1 = Buffer, R2 = never>(
    onfulfilled?: ((value: Buffer) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<Buffer | R> {
    return this.#promise.catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Buffer> {
    return this.#promise.finally(onfinally);
  }

  /**
   * Events in arrival order from the moment of the call (a `created` event is replayed first if the
   * handle is already known, a `complete` event if the job already finished); ends after
   * `complete`, throws the job's error on failure.
   */
  [Symbol.asyncIterator](): AsyncIterator<JobEvent> {
    const state: IteratorState = { queue: [], waiter: undefined, done: false, error: undefined };
    if (this.#settled) {
      state.done = true;
      state.error = this.#error;
      if (this.#result) state.queue.push({ type: 'complete', data: this.#result });
    } else {
      if (this.handle !== undefined && this.server !== undefined) {
        state.queue.push({ type: 'created', handle: this.handle, server: this.server });
      }
      this.#iterators.add(state);
    }
    return {
      next: (): Promise<IteratorResult<JobEvent>> => {
        const event = state.queue.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (state.done) {
          const error = state.error;
          state.error = undefined;
          return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          state.waiter = { resolve, reject };
        });
      },
      return: (): Promise<IteratorResult<JobEvent>> => {
        this.#iterators.delete(state);
        state.done = true;
        state.error = undefined;
        state.queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #push(event: JobEvent): void {
    for (const state of this.#iterators) {
      const waiter = state.waiter;
      if (waiter) {
        state.waiter = undefined;
        waiter.resolve({ value: event, done: false });
      } else state.queue.push(event);
    }
  }

  #endIterators(error: Error | undefined): void {
    for (const state of this.#iterators) {
      state.done = true;
      state.error = error;
      const waiter = state.waiter;
      if (waiter) {
        state.waiter = undefined;
        state.error = undefined;
        if (error) waiter.reject(error);
        else waiter.resolve({ value: undefined, done: true });
      }
    }
    this.#iterators.clear();
  }
}
