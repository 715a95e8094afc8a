/**
 * The local cluster of a run without --servers: how many `gmr worker` processes it starts before it
 * plans, and what they serve. All of them (`--workers`), except for an input that is one file no
 * larger than its split, which is one map task for certain: one worker then runs the whole (small)
 * run, since the others would only cost their start-up, about as much CPU as such a run itself
 * (issue 15); the rest are spares that replace a worker that dies, so a crashed task is still
 * retried on a fresh process. The plan's reducers still default to `--workers`: the output is the same.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isBuiltinName } from '../job/load-job.ts';
import { streamingWorkerArgs } from '../job/streaming-job.ts';
import { startLocalCluster, type LocalCluster } from './local-cluster.ts';
import type { RunOptions } from './run-options.ts';
import type { RunTrust } from './run-trust.ts';
import { defaultSplitSize } from './splits.ts';

export async function workersToStart(options: RunOptions, workers: number, cwd: string): Promise<number> {
  const [only, ...more] = options.input;
  if (workers <= 1 || only === undefined || more.length > 0) return workers;
  const stats = await stat(resolve(cwd, only)).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) return workers;
  return stats.size <= (options.splitSize ?? defaultSplitSize(stats.size, workers)) ? 1 : workers;
}

/** The embedded server and local workers (and spares for dead ones), started before the job is loaded and the run planned. */
export function startRunCluster(options: RunOptions, workers: number, spares: number, cwd: string, trust: RunTrust, roots: string[]): Promise<LocalCluster> {
  const cluster = startLocalCluster({
    workers,
    spares,
    // Workers load the same module: built-ins by name, user modules by absolute path (as loadJob
    // resolves it); for a streaming job, its commands.
    serve: options.streaming ? streamingWorkerArgs(options.streaming) : ['--jobs', isBuiltinName(options.job as string) ? (options.job as string) : resolve(cwd, options.job as string)],
    cwd,
    secret: trust.text,
    // The local workers read the run's inputs and nothing else; reduce runs come from the run folder.
    inputRoots: roots,
    ...(options.onLog ? { onWorkerLog: options.onLog } : {}),
  });
  // A failure to start is reported when the run needs the cluster, or not at all if planning failed first.
  cluster.catch(() => {});
  return cluster;
}
