/**
 * What a persistent queue stores of a background job, and what the job server asks of one: the
 * rows of gearmand's queue table (unique_key, function_name, priority, data, when_to_run).
 */

/** One stored background job, as gearmand's libsqlite3 queue keeps it. */
export interface StoredJob {
  unique: string;
  fn: string;
  /** 0 HIGH, 1 NORMAL, 2 LOW (gearman_job_priority_t). */
  priority: 0 | 1 | 2;
  data: Buffer;
  /** SUBMIT_JOB_EPOCH's time in seconds since 1970; 0 for "now". */
  whenSeconds: number;
}

export interface QueueStore {
  /** The queue file, for messages. */
  readonly file: string;
  /** gearmand's --store-queue-on-shutdown: nothing is written while running, everything at close. */
  readonly storeOnShutdown: boolean;
  /** The stored jobs in the order they were stored. */
  replay(): StoredJob[];
  /** The replayed jobs were accepted (with storeOnShutdown, the table is emptied now). */
  replayed(): void;
  /** Stores a job in the open transaction (replacing a row with the same unique and function). */
  add(job: StoredJob): void;
  /** Removes a job's row in the open transaction. */
  done(fn: string, unique: string): void;
  /** Makes every add and done since the last commit durable; throws when the file cannot be written. */
  commit(): void;
  /** Undoes every add and done since the last commit. */
  rollback(): void;
  /** Closes the file (after a commit of what is pending). Idempotent. */
  close(): void;
}
