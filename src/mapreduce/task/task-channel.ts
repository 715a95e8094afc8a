/**
 * One task attempt's way back to the driver: every result frame goes through it, so that with a
 * run secret the attempt's WORK_COMPLETE or WORK_EXCEPTION carries the MAC of the whole stream
 * (task-auth.ts). Without a secret (--insecure) frames and results go out as they are.
 */
import type { WorkerJob } from '../../worker/worker-job.ts';
import { ResultMac, type RunSecret } from '../shuffle/task-auth.ts';

const channels = new WeakMap<WorkerJob, TaskChannel>();

export class TaskChannel {
  readonly #mac: ResultMac | undefined;
  #beforeSeal: Array<() => void> = [];

  constructor(
    private readonly wjob: WorkerJob,
    secret: RunSecret | undefined,
  ) {
    this.#mac = secret ? new ResultMac(secret, wjob.unique) : undefined;
    channels.set(wjob, this);
  }

  /** The channel of a job, for the worker's failure hook. */
  static of(wjob: WorkerJob): TaskChannel | undefined {
    return channels.get(wjob);
  }

  /** Runs `last` before the result is sealed: the last frames of the attempt (its log, its status). */
  beforeSeal(last: () => void): void {
    this.#beforeSeal.push(last);
  }

  #seal(): void {
    for (const last of this.#beforeSeal.splice(0)) last();
  }

  send(frame: Buffer): void {
    this.#mac?.frame(frame);
    this.wjob.sendData(frame);
  }

  /** send, resolving once the connection can take more (a streaming command's output waits on it). */
  write(frame: Buffer): Promise<void> {
    this.#mac?.frame(frame);
    return this.wjob.writeData(frame);
  }

  /** WORK_COMPLETE data for the summary. */
  complete(summary: Buffer): Buffer {
    this.#seal();
    return this.#mac ? this.#mac.seal('C', summary) : summary;
  }

  /** WORK_EXCEPTION data for the failure report. */
  failure(message: string): Buffer {
    this.#seal();
    const text = Buffer.from(message, 'utf8');
    return this.#mac ? this.#mac.seal('X', text) : text;
  }
}
