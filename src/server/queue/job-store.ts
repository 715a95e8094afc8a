/**
 * Background jobs into the persistent queue, with group commit: the jobs stored in one event-loop
 * turn share one transaction, committed before that turn's replies are written, and each submitter
 * gets its JOB_CREATED only then. A commit that fails acknowledges nothing: each submitter gets
 * ERROR QUEUE_ERROR naming the file, and the broker drops the job.
 */
import { PACKETS } from '../../protocol/index.ts';
import type { Job, Session } from '../records.ts';
import type { QueueStore } from './queue-store.ts';
import { storedJob } from './stored-jobs.ts';

const JOB_CREATED = PACKETS.JOB_CREATED.code;

export class JobStore {
  readonly queue: QueueStore;
  /** Asks for flush() before this turn's replies are written. */
  readonly #schedule: () => void;
  /** A job whose store failed: the broker keeps it only for its foreground clients. */
  readonly #unstored: (job: Job) => void;
  #acks: Array<{ job: Job; session: Session }> = [];
  #dirty = false;

  constructor(queue: QueueStore, schedule: () => void, unstored: (job: Job) => void) {
    this.queue = queue;
    this.#schedule = schedule;
    this.#unstored = unstored;
  }

  /** Stores a background job; `session` gets JOB_CREATED once the transaction is durable. */
  persist(job: Job, session: Session): void {
    this.#touch();
    job.stored = true;
    this.queue.add(storedJob(job));
    this.#acks.push({ job, session });
  }

  /** The job ended: its row goes (in the next commit). */
  finished(job: Job): void {
    if (!job.stored) return;
    job.stored = false;
    this.#touch();
    this.queue.done(job.fn.name, job.unique);
  }

  #touch(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#schedule();
  }

  /** Commits what this turn stored and removed, then answers every submitter. */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const acks = this.#acks;
    this.#acks = [];
    let failure: string | undefined;
    try {
      this.queue.commit();
    } catch (error) {
      failure = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      this.queue.rollback();
    }
    for (const { job, session } of acks) {
      if (failure === undefined) {
        session.peer.send(JOB_CREATED, undefined, job.handle);
        continue;
      }
      job.stored = false;
      session.peer.sendError('QUEUE_ERROR', `Cannot store the job in queue file ${this.queue.file}: ${failure}`);
      this.#unstored(job);
    }
  }
}
