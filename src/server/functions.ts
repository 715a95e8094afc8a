/**
 * The function table: every FunctionRecord by name.
 *
 * gearmand creates a record at the first CAN_DO, submit or `create function`, and keeps it until
 * `drop function` (status shows `fn 0 0 0` forever). So do we.
 */
import { FunctionRecord } from './records.ts';

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
