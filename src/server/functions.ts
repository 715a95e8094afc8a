/**
 * Function records: per function, three priority FIFOs, the coalescing map, counters for the
 * admin `status` lines, and the workers that can run it.
 *
 * gearmand creates a record at the first CAN_DO, submit or `create function`, and keeps it until
 * `drop function` (status shows `fn 0 0 0` forever). So do we.
 */
import { JobQueue, PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL, type Job } from './job.ts';
import type { ServerConnection } from './server-connection.ts';

/** One CAN_DO / CAN_DO_TIMEOUT registration on a connection (duplicates are kept, as gearmand does). */
export interface Ability {
  readonly fn: FunctionRecord;
  /** CAN_DO_TIMEOUT in ms (at least MIN_TIMEOUT_MS); 0 for plain CAN_DO. */
  readonly timeoutMs: number;
}

export class FunctionRecord {
  readonly name: string;
  readonly queues: readonly [JobQueue, JobQueue, JobQueue] = [new JobQueue(), new JobQueue(), new JobQueue()];
  /** (unique or payload key) → the queued, scheduled or running job that holds it. */
  readonly uniques = new Map<string, Job>();
  /** EPOCH jobs waiting for their time; gearmand keeps them in the NORMAL queue, so they count there. */
  scheduled = 0;
  running = 0;
  /** Registrations across all connections; duplicates count, as in gearmand's `status`. */
  workerCount = 0;
  /** Connections that sent PRE_SLEEP and have not been sent a NOOP since. */
  readonly sleepers = new Set<ServerConnection>();
  /** `maxqueue` limits per priority; 0 is unlimited. */
  maxQueue: [number, number, number] = [0, 0, 0];

  constructor(name: string) {
    this.name = name;
  }

  /** Jobs a worker could grab now. */
  get queued(): number {
    return this.queues[PRIORITY_HIGH].length + this.queues[PRIORITY_NORMAL].length + this.queues[PRIORITY_LOW].length;
  }

  /** gearmand's TOTAL: queued (epoch jobs included) plus running. */
  get total(): number {
    return this.queued + this.scheduled + this.running;
  }
}

export class FunctionTable {
  readonly #byName = new Map<string, FunctionRecord>();

  get(name: string): FunctionRecord | undefined {
    return this.#byName.get(name);
  }

  getOrCreate(name: string): FunctionRecord {
    let record = this.#byName.get(name);
    if (!record) {
      record = new FunctionRecord(name);
      this.#byName.set(name, record);
    }
    return record;
  }

  delete(name: string): void {
    this.#byName.delete(name);
  }

  values(): IterableIterator<FunctionRecord> {
    return this.#byName.values();
  }
}
