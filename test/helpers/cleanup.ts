/** Things a test opened, closed in reverse order in afterEach (every one, even when one throws). */
import { randomBytes } from 'node:crypto';

export class Cleanup {
  #tasks: Array<() => unknown> = [];

  add<T extends { close(): unknown }>(resource: T): T {
    this.#tasks.push(() => resource.close());
    return resource;
  }

  defer(task: () => unknown): void {
    this.#tasks.push(task);
  }

  async run(): Promise<void> {
    const tasks = this.#tasks.reverse();
    this.#tasks = [];
    const errors: unknown[] = [];
    for (const task of tasks) {
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** A function name no other test uses, even across gearmand restarts. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Polls `check` until it returns true (for server-side state that has no event). */
export async function until(check: () => boolean | Promise<boolean>, what: string, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Gave up waiting for ${what}`);
}
