/**
 * The run's summary: what `runJob` returns, `--json` prints and `_SUCCESS` holds (inputs,
 * counters, tasks and their attempts, timings), built from the task records once the phases ran.
 */
import type { Params } from '../job/params.ts';
import type { AttemptLogInfo } from './run-logs.ts';
import type { BadRecord } from './bad-records.ts';
import type { TaskRecord } from './task-runner.ts';
import type { RunPlan } from './run-state.ts';
import type { StepRun } from './run-steps.ts';
import type { InputIdentity } from './input-identity.ts';

/** One step of the run, in the summary (a single-step job has one). */
export interface StepSummary {
  step: number;
  mapTasks: number;
  reduceTasks: number;
  /** Records its map tasks read (step 1: input records; later: the previous step's pairs). */
  records: number;
  /** Pairs (or lines, in the last step) the step wrote. */
  outputRecords: number;
  counters: Record<string, number>;
  mapMs: number;
  reduceMs: number;
  /** Tasks a resumed run did not run again. */
  resumedTasks: number;
}

export interface RunSummary {
  job: string;
  runId: string;
  ok: true;
  output: string | null;
  /** The inputs as the plan recorded them (and as they still were at commit). */
  inputs: InputIdentity[];
  params: Params;
  counters: Record<string, number>;
  mapTasks: number;
  reduceTasks: number;
  attempts: number;
  /** Attempts that failed in job code (the task's fault; bounded by --max-attempts). */
  failedAttempts: number;
  /**
   * Attempts lost without the task being at fault: worker processes that died under a task
   * (restarts) and results that did not verify (bounded per task by --max-lost-attempts).
   */
  lostAttempts: number;
  /** Whether tasks and results were signed with a run secret (false only with --insecure). */
  signed: boolean;
  inputBytes: number;
  records: number;
  outputRecords: number;
  timings: { startedAt: string; mapMs: number; reduceMs: number; totalMs: number };
  /** Peak resident memory of the driver process (it must not grow with the input). */
  driverMaxRssBytes: number;
  servers: string[];
  mode: 'embedded' | 'servers';
  /** Map tasks a resumed run did not run again (of every step). */
  resumedMapTasks: number;
  /** Records skipped with maxBadRecords. */
  badRecords: BadRecord[];
  /** Per step: tasks, records, counters, times. The top-level figures are over all steps. */
  steps: StepSummary[];
  tasks: Array<{
    /** The task's step (1-based), in a job of several steps. */
    step?: number;
    phase: string;
    index: number;
    input?: string;
    attempts: Array<{ attempt: number; ms: number; error?: string; restarts?: number; worker?: string; at?: string; stack?: string; outcome?: 'failed' | 'lost' | 'aborted'; log?: AttemptLogInfo }>;
    /** The task's last ctx.status text. */
    status?: string;
  }>;
}

/** What the summary is built from. Times are `Date.now()` values. */
export interface SummaryInput {
  plan: RunPlan;
  output: string | undefined;
  steps: readonly StepRun[];
  started: number;
  badRecords: BadRecord[];
  servers: string[];
  mode: RunSummary['mode'];
  signed: boolean;
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

function counterSum(records: readonly TaskRecord[]): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const r of records) addCounters(counters, r.summary?.['counters']);
  return counters;
}

function stepSummary(run: StepRun, index: number): StepSummary {
  return {
    step: index + 1,
    mapTasks: run.map.length,
    reduceTasks: run.reduce.length,
    records: sum(run.map, 'records'),
    outputRecords: run.reduces ? sum(run.reduce, 'outputRecords') : sum(run.map, 'emitted'),
    counters: counterSum([...run.map, ...run.reduce]),
    // A step still running (the summary of a failed run) counts until now.
    mapMs: (run.mapDone || Date.now()) - run.started,
    reduceMs: run.mapDone === 0 ? 0 : (run.reduceDone || Date.now()) - run.mapDone,
    resumedTasks: run.resumed.map + run.resumed.reduce,
  };
}

export function buildSummary(input: SummaryInput): RunSummary {
  const { plan, steps } = input;
  const map = steps.flatMap((s) => s.map);
  const reduce = steps.flatMap((s) => s.reduce);
  const all = [...map, ...reduce];
  const perStep = steps.map(stepSummary);
  const several = steps.length > 1;
  const taskEntry = (r: TaskRecord, step: number): RunSummary['tasks'][number] => ({
    ...(several ? { step: step + 1 } : {}),
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
      ...(a.outcome ? { outcome: a.outcome } : {}),
      ...(a.log ? { log: a.log } : {}),
    })),
    ...(statusOf(r) === undefined ? {} : { status: statusOf(r) }),
  });
  return {
    job: plan.job,
    runId: plan.runId,
    ok: true,
    output: input.output ?? null,
    inputs: plan.inputs,
    params: plan.params,
    counters: counterSum(all),
    mapTasks: map.length,
    reduceTasks: reduce.length,
    attempts: all.reduce((n, r) => n + r.attempts.length, 0),
    failedAttempts: all.reduce((n, r) => n + r.attempts.filter((a) => a.outcome === 'failed').length, 0),
    lostAttempts: all.reduce((n, r) => n + r.attempts.reduce((k, a) => k + (a.restarts ?? 0) + (a.outcome === 'lost' ? 1 : 0), 0), 0),
    signed: input.signed,
    inputBytes: plan.inputs.reduce((n, f) => n + f.size, 0),
    records: perStep[0]?.records ?? 0,
    outputRecords: perStep[perStep.length - 1]?.outputRecords ?? 0,
    timings: {
      startedAt: new Date(input.started).toISOString(),
      mapMs: perStep.reduce((n, s) => n + s.mapMs, 0),
      reduceMs: perStep.reduce((n, s) => n + s.reduceMs, 0),
      totalMs: Date.now() - input.started,
    },
    driverMaxRssBytes: driverMaxRssBytes(),
    badRecords: input.badRecords,
    resumedMapTasks: steps.reduce((n, s) => n + s.resumed.map, 0),
    servers: input.servers,
    mode: input.mode,
    steps: perStep,
    tasks: steps.flatMap((s, i) => [...s.map.map((r) => taskEntry(r, i)), ...s.reduce.map((r) => taskEntry(r, i))]),
  };
}

/** A task's last ctx.status: from its summary when it finished, else as its attempt last sent it. */
function statusOf(r: TaskRecord): string | undefined {
  const said = r.summary?.['status'];
  return typeof said === 'string' ? said : r.status;
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
