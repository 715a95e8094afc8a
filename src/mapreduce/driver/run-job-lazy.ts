/**
 * runJob as the public entry exports it: the driver's modules load on the first call, so a job
 * module's `import … from 'gmr'` in a worker (which never drives a run) does not load them all.
 */
import type { RunOptions, RunSummary } from './run-job.ts';

export async function runJob(options: RunOptions): Promise<RunSummary> {
  return (await import('./run-job.ts')).runJob(options);
}
