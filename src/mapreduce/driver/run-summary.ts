/**
 * The run's summary: what `runJob` returns, `--json` prints and `_SUCCESS` holds (inputs,
 * counters, tasks and their attempts, timings), built from the task records once the phases ran.
 */
import type { Params } from '../job/params.ts';
import type { BadRecord, TaskRecord } from './task-runner.ts';
import type { RunPlan } from './run-state.ts';

export interface RunSummary {
  job: string;
  runId: string;
  ok: true;
  output: string | null;
  inputs: Array<{ path: string; size: number; mtimeMs: number }>;
  params: Params;
  counters: Record<string, number>;
  mapTasks: number;
  reduceTasks: number;
  attempts: number;
  inputBytes: number;
  records: number;
  outputRecords: number;
  timings: { startedAt: string; mapMs: number; reduceMs: number; totalMs: number };
  /** Peak resident memory of the driver process (it must not grow with the input). */
  driverMaxRssBytes: number;
  servers: string[];
  mode: 'embedded' | 'servers';
  /** Map tasks a resumed run did not run again. */
  resumedMapTasks: number;
  /** Records skipped with maxBadRecords. */
  badRecords: BadRecord[];
  tasks: Array<{
    phase: string;
    index: number;
    input?: string;
    attempts: Array<{ attempt: number; ms: number; error?: string; restarts?: number; worker?: string; at?: string; stack?: string }>;
  }>;
}

/** What the summary is built from. Times are `Date.now()` values. */
export interface SummaryInput {
  plan: RunPlan;
  output: string | undefined;
  map: readonly TaskRecord[];
  reduce: readonly TaskRecord[];
  /** Whether the job reduces: then the output records are the reducers', else the mappers'. */
  reduces: boolean;
  times: { started: number; mapDone: number; reduceDone: number };
  resumedMapTasks: number;
  badRecords: BadRecord[];
  servers: string[];
  mode: RunSummary['mode'];
}

function addCounters(into: Record<string, number>, from: unknown): void {
  if (!from || typeof from !== 'object') return;
  for (const [k, v] of Object.entries(from as Record<string, unknown>)) {
    if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
  }
}

function sum(records: readonly TaskRecord[], key: string): number {
  let n = 0;
  for (const r of records) {
    const v = r.summary?.[key];
    if (typeof v === 'number') n += v;
  }
  return n;
}

export function buildSummary(input: SummaryInput): RunSummary {
  const { plan, map, reduce, times } = input;
  const all = [...map, ...reduce];
  const counters: Record<string, number> = {};
  for (const r of all) addCounters(counters, r.summary?.['counters']);
  return {
    job: plan.job,
    runId: plan.runId,
    ok: true,
    output: input.output ?? null,
    inputs: plan.inputs,
    params: plan.params,
    counters,
    mapTasks: map.length,
    reduceTasks: reduce.length,
    attempts: all.reduce((n, r) => n + r.attempts.length, 0),
    inputBytes: plan.inputs.reduce((n, f) => n + f.size, 0),
    records: sum(map, 'records'),
    outputRecords: input.reduces ? sum(reduce, 'outputRecords') : sum(map, 'emitted'),
    timings: {
      startedAt: new Date(times.started).toISOString(),
      mapMs: times.mapDone - times.started,
      reduceMs: times.reduceDone - times.mapDone,
      totalMs: Date.now() - times.started,
    },
    driverMaxRssBytes: driverMaxRssBytes(),
    badRecords: input.badRecords,
    resumedMapTasks: input.resumedMapTasks,
    servers: input.servers,
    mode: input.mode,
    tasks: all.map((r) => ({
      phase: r.phase,
      index: r.index,
      ...(r.input ? { input: r.input } : {}),
      attempts: r.attempts.map((a) => ({
        attempt: a.attempt,
        ms: a.ms,
        ...(a.error ? { error: a.error } : {}),
        ...(a.restarts ? { restarts: a.restarts } : {}),
        ...(a.worker ? { worker: a.worker } : {}),
        ...(a.failure?.at ? { at: a.failure.at } : {}),
        ...(a.failure?.stack ? { stack: a.failure.stack } : {}),
      })),
    })),
  };
}

/** Peak resident memory of this process, in bytes. */
export function driverMaxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The failure of a failed run as fields: which task, where in the input, and the user's stack. */
export interface RunFailureFields {
  job: string;
  phase?: 'map' | 'reduce';
  task?: number;
  /** The map task's split, `path@offset+length`. */
  split?: string;
  /** The failing record: its file, byte offset and 1-based line. */
  file?: string;
  offset?: number;
  line?: number;
  message: string;
  /** The first frame in the job's module, `my-job.ts:6:21`. */
  at?: string;
  stack?: string;
}

/** The failure fields of a run: the first task that failed for good, and its last attempt's report. */
export function failureFields(job: string, records: readonly TaskRecord[], message: string): RunFailureFields {
  const failed = records.find((r) => r.state === 'failed');
  if (failed === undefined) return { job, message };
  const last = failed.attempts[failed.attempts.length - 1];
  const where = last?.failure;
  return {
    job,
    phase: failed.phase,
    task: failed.index,
    ...(failed.input === undefined ? {} : { split: failed.input }),
    ...(where && where.offset >= 0 ? { file: where.path, offset: where.offset, line: where.line } : {}),
    message: where?.message ?? last?.error ?? message,
    ...(where?.at === undefined ? {} : { at: where.at }),
    ...(where?.stack === undefined ? {} : { stack: where.stack }),
  };
}
