/** Counters, status and progress hooks shared by the map and reduce task runtimes. */

export interface TaskHooks {
  onProgress?(bytesDone: number): void;
  onStatus?(message: string): void;
}

export class TaskState {
  readonly counters = new Map<string, number>();
  status: string | undefined;

  constructor(private readonly hooks: TaskHooks) {}

  count(name: string, amount = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + amount);
  }

  setStatus(message: string): void {
    this.status = message;
    this.hooks.onStatus?.(message);
  }

  counterRecord(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }
}
