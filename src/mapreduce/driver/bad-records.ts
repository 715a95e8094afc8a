/** The run's allowance of records skipped with --max-bad-records, shared by all map tasks. */
import type { RecordFailure } from '../shuffle/task-protocol.ts';

/** A record skipped with --max-bad-records. */
export interface BadRecord extends RecordFailure {
  task: number;
}

/** The run's allowance of bad records, shared by all map tasks. */
export class BadRecordBudget {
  readonly records: BadRecord[] = [];

  constructor(readonly max: number) {}

  /** Records a bad record; false when that exceeds the allowance. */
  take(record: BadRecord): boolean {
    this.records.push(record);
    return this.records.length <= this.max;
  }
}
