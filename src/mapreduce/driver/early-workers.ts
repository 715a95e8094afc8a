/**
 * How many local worker processes a run starts before it plans: all of them (`--workers`), except
 * for an input that is one file no larger than its split, which is one map task for certain. One
 * worker then runs the whole (small) run, and the others would only cost their start-up, which
 * is about as much CPU as such a run itself (issue 15). The plan's reducers still default to
 * `--workers`: the output is the same either way.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RunOptions } from './run-options.ts';
import { defaultSplitSize } from './splits.ts';

export async function workersToStart(options: RunOptions, workers: number, cwd: string): Promise<number> {
  const [only, ...more] = options.input;
  if (workers <= 1 || only === undefined || more.length > 0) return workers;
  const stats = await stat(resolve(cwd, only)).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) return workers;
  return stats.size <= (options.splitSize ?? defaultSplitSize(stats.size, workers)) ? 1 : workers;
}
