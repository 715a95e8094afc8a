/** What `onProgress` receives while a run goes: per phase, tasks and bytes done out of total. */
import type { PhaseProgress } from '../status/run-status.ts';
import type { TaskRecord } from './task-runner.ts';

export interface RunProgress {
  phase: 'map' | 'reduce' | 'commit';
  /** The step running (1-based) of the job's `steps`; map and reduce are that step's phases. */
  step: number;
  steps: number;
  map: PhaseProgress;
  reduce: PhaseProgress;
  elapsedMs: number;
  /** The newest ctx.status(text) of a task that is running now. */
  status?: { task: string; text: string };
  /** With servers of your own: no worker serves these functions, since `sinceElapsedMs` into the run. */
  noWorker?: { functions: string[]; sinceElapsedMs: number; timeoutMs: number };
}

/** The newest status text among running tasks, `{ task: 'map 3', text }`. */
export function latestStatus(records: readonly TaskRecord[]): RunProgress['status'] {
  let latest: TaskRecord | undefined;
  for (const r of records) {
    if (r.state === 'running' && r.status !== undefined && (latest === undefined || (r.statusAt ?? 0) > (latest.statusAt ?? 0))) latest = r;
  }
  return latest === undefined ? undefined : { task: `${latest.phase} ${latest.index}`, text: latest.status ?? '' };
}

/** Counts a phase's task records by state, and their bytes. */
export function phaseProgress(records: readonly TaskRecord[]): PhaseProgress {
  const p: PhaseProgress = { total: records.length, done: 0, running: 0, failed: 0, bytesDone: 0, bytesTotal: 0 };
  for (const r of records) {
    if (r.state === 'done') p.done++;
    else if (r.state === 'running') p.running++;
    else if (r.state === 'failed') p.failed++;
    p.bytesDone += r.bytesDone;
    p.bytesTotal += r.bytesTotal;
  }
  return p;
}
