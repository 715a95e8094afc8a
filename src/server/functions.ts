/**
 * The function table: every FunctionRecord by name.
 *
 * gearmand creates a record at the first CAN_DO, submit or `create function`, and keeps it until
 * `drop function` (status shows `fn 0 0 0` forever), so any peer can grow it without bound. We
 * forget a record once no worker registration, job or sleeper refers to it, unless admin asked
 * for it (`create function`, `maxqueue`): those stay until `drop function`.
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

  /** Forgets `fn` if nothing refers to it and admin did not pin it. */
  release(fn: FunctionRecord): void {
    if (fn.pinned || fn.workerCount > 0 || fn.total > 0 || fn.sleepers.size > 0) return;
    if (this.#byName.get(fn.name) === fn) this.#byName.delete(fn.name);
  }

  delete(name: string): void {
    this.#byName.delete(name);
  }

  values(): IterableIterator<FunctionRecord> {
    return this.#byName.values();
  }
}
