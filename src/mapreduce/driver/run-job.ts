/**
 * runJob: the programmatic core of `gmr run`, as a short story. Check the options, load the job,
 * plan the run, open its workspace, start (or reach) the job servers, run the map phase and the
 * reduce phase, build the summary, commit the output (or stream it), and always clean up.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { Client } from '../../client/client.ts';
import { RunError, UsageError } from '../../errors.ts';
import { isBuiltinName, loadJob, resolveParams, type LoadedJob } from '../job/load-job.ts';
import type { Params } from '../job/params.ts';
import { mapFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';
import { resolveInputs, type InputFile } from './input-files.ts';
import { startLocalCluster } from './local-cluster.ts';
import { checkOutputDir, commitOutput, streamParts } from './output-commit.ts';
import { checkServersHaveWorkers } from './preflight.ts';
import { runPhase, taskRecords, type Phase, type PhaseRunner } from './run-phase.ts';
import { checkRunOptions, DEFAULT_MAX_ATTEMPTS, DEFAULT_TASK_TIMEOUT_MS, type RunOptions } from './run-options.ts';
import { phaseProgress, type RunProgress } from './run-progress.ts';
import { findResumable, type RunPlan } from './run-state.ts';
import { buildSummary, driverMaxRssBytes, failureFields, type RunSummary } from './run-summary.ts';
import { RunWorkspace } from './run-workspace.ts';
import { StatusTracker, type TrackedStep } from './status-tracker.ts';
import { defaultSplitSize, describeSplit, planSplits } from './splits.ts';
import { buildMapTasks, buildReduceTask } from './task-plan.ts';
import { BadRecordBudget } from './task-runner.ts';

export type { RunOptions } from './run-options.ts';
export type { PhaseProgress, RunProgress } from './run-progress.ts';
export type { RunSummary } from './run-summary.ts';

export async function runJob(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  checkRunOptions(options);
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadJob(options.job, cwd);
  const params = resolveParams(loaded.definition, options.params ?? {}, loaded.name);
  const files = await resolveInputs(options.input, cwd);
  if (files.every((f) => f.size === 0)) {
    options.onLog?.(`warning: the input is empty (${files.length} file${files.length === 1 ? '' : 's'}, 0 bytes): ${options.input.join(', ')}; the output will be empty`);
  }
  const output = options.output === undefined ? undefined : resolve(cwd, options.output);
  if (output) await checkOutputDir(output, options.overwrite ?? false);
  const workers = options.workers ?? availableParallelism();
  const plan = await planRun(options, { loaded, params, files, output, workers, started });
  const splits = planSplits(files, { splitSize: plan.splitSize, workers });

  const workspace = await RunWorkspace.open({ ...(output ? { output } : {}), plan, keepOnFailure: options.resume ?? false });
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  workspace.defer(async () => options.signal?.removeEventListener('abort', onAbort));
  // The status file shows one entry per step: a job of several steps pushes each step's records and
  // calls tracker.phase(step, …) as it goes (gmr status and the dashboard draw every one).
  const steps: TrackedStep[] = [];
  const tracker = new StatusTracker({
    job: loaded.name,
    runId: plan.runId,
    output: output ?? null,
    runDir: workspace.folder,
    servers: options.servers ?? [],
    startedAt: plan.startedAt,
    command: options.command ?? null,
    steps: () => steps,
    ...(options.onRunStatus ? { onWrite: options.onRunStatus } : {}),
  });
  workspace.defer(async () => tracker.close());
  // What the run has done so far, for the summary of a failed run (--json on failure).
  let soFar: (() => RunSummary) | undefined;
  try {
    await tracker.phase(0, 'plan');
    const engine = await startEngine(options, loaded, workers, workspace);
    tracker.setServers(engine.servers);
    // Unique keys differ per driver, so a resumed driver never joins a job of the dead one halfway.
    const uniqueRun = plan.resumes > 0 ? `${plan.runId}.${plan.resumes}` : plan.runId;
    const shared = { runId: uniqueRun, job: loaded.name, params, partitions: plan.reducers, ship: plan.ship };
    const badRecords = options.maxBadRecords === undefined ? undefined : new BadRecordBudget(options.maxBadRecords);

    const mapTasks = await buildMapTasks({ ...shared, definition: loaded.definition, splits });
    const map: Phase = {
      kind: 'map',
      fn: mapFunctionName(loaded.name),
      records: taskRecords('map', splits.map((s) => ({ input: describeSplit(s), bytes: s.length }))),
      task: async (i) => {
        const task = mapTasks[i]!;
        return { unique: task.unique, payload: await task.prepare() };
      },
      resumable: true,
      ...(badRecords ? { badRecords } : {}),
    };
    const reduce: Phase = {
      kind: 'reduce',
      fn: reduceFunctionName(loaded.name),
      records: taskRecords('reduce', Array.from({ length: plan.reducers }, () => ({ bytes: 0 }))),
      // A reduce task reads its partition of every map task's results, known once the maps ran.
      task: async (p) => {
        const runs = map.records.map((m) => m.files.get(p)).filter((f): f is string => f !== undefined);
        const task = await buildReduceTask({ ...shared, partition: p, runs });
        reduce.records[p]!.bytesTotal = task.bytes;
        return task;
      },
      resumable: false,
    };

    steps.push({ map: map.records, reduce: reduce.records });
    let current: RunProgress['phase'] = 'map';
    const report = (): void => {
      tracker.progress();
      options.onProgress?.({ phase: current, map: phaseProgress(map.records), reduce: phaseProgress(reduce.records), elapsedMs: Date.now() - started });
    };
    const inFlight = Math.max(2, workers * 2);
    // Every task in flight listens for the run's abort: more than Node's default of 10 is expected.
    setMaxListeners(inFlight + 10, aborter.signal);
    const runner: PhaseRunner = {
      client: engine.client,
      workspace,
      fanOut: pLimit(inFlight),
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(options.taskTimeoutMs === 0 ? {} : { timeoutMs: options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS }),
      signal: aborter.signal,
      abort: (reason) => aborter.abort(reason),
      guard: engine.guard,
      onStatus: report,
    };

    const summaryInput = (mapDone: number, reduceDone: number, resumed: number): Parameters<typeof buildSummary>[0] => ({
      plan,
      output,
      map: map.records,
      reduce: reduce.records,
      reduces: loaded.definition.reduce !== undefined,
      times: { started, mapDone, reduceDone },
      resumedMapTasks: resumed,
      badRecords: badRecords?.records ?? [],
      servers: engine.servers,
      mode: engine.mode,
    });
    soFar = () => buildSummary(summaryInput(Date.now(), Date.now(), 0));

    await tracker.phase(0, 'map');
    const { resumed } = await runPhase(runner, map);
    const mapDone = Date.now();
    current = 'reduce';
    await tracker.phase(0, 'reduce');
    report();
    await runPhase(runner, reduce);
    const reduceDone = Date.now();
    current = 'commit';
    await tracker.phase(0, 'commit');
    report();

    const reduces = loaded.definition.reduce !== undefined;
    const summary = buildSummary(summaryInput(mapDone, reduceDone, resumed));
    const parts = (reduces ? reduce : map).records.map((r) => ({ index: r.index, path: r.files.get(-1) }));
    if (output) await commitOutput(output, parts, summary, summary.badRecords);
    else if (options.stdout) await streamParts(parts.map((p) => p.path), options.stdout, reduces);
    workspace.markCommitted();
    const abandoned = await workspace.removeAbandonedRuns();
    if (abandoned.length > 0) options.onLog?.(`removed ${abandoned.length} abandoned run folder${abandoned.length === 1 ? '' : 's'} of earlier runs: _temporary/${abandoned.join(', _temporary/')}`);
    summary.timings.totalMs = Date.now() - started;
    summary.driverMaxRssBytes = driverMaxRssBytes();
    await tracker.finish({ state: 'committed', exitCode: 0, counters: summary.counters });
    return summary;
  } catch (error) {
    aborter.abort(error);
    // Stopped from outside (SIGINT, SIGTERM): keep what is done, so that --resume can finish it.
    if (options.signal?.aborted) workspace.keep();
    // Tasks that were cut short fail with "aborted": the reason is the caller's (an InterruptedError).
    const cause: unknown = options.signal?.aborted && options.signal.reason instanceof Error ? options.signal.reason : error;
    const failure = cause instanceof RunError || cause instanceof UsageError ? cause : new RunError(`Job ${loaded.name} failed: ${(cause as Error).message}`, { cause });
    if (failure instanceof RunError && soFar !== undefined) {
      const partial = soFar();
      const records = steps.flatMap((s) => [...s.map, ...s.reduce]);
      failure.summary = { ...partial, ok: false, failure: failureFields(loaded.name, records, failure.message) };
    }
    await tracker.finish({ state: 'failed', exitCode: options.exitCodeOf?.(failure) ?? 1, error: failure.message, counters: countersOf(steps) });
    throw failure;
  } finally {
    await workspace.dispose();
  }
}

/** The counters of the tasks that finished, for the status of a failed run. */
function countersOf(steps: TrackedStep[]): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const step of steps) {
    for (const r of [...step.map, ...step.reduce]) {
      const own = r.summary?.['counters'];
      if (!own || typeof own !== 'object') continue;
      for (const [k, v] of Object.entries(own as Record<string, unknown>)) if (typeof v === 'number') counters[k] = (counters[k] ?? 0) + v;
    }
  }
  return counters;
}

interface PlanInput {
  loaded: LoadedJob;
  params: Params;
  files: InputFile[];
  output: string | undefined;
  workers: number;
  started: number;
}

/** The run's plan: a new one, or with --resume the unfinished run of the same job and inputs. */
async function planRun(options: RunOptions, input: PlanInput): Promise<RunPlan> {
  const { loaded, params, output } = input;
  const inputs = input.files.map((f) => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs }));
  const previous = options.resume && output ? await findResumable(output, { job: loaded.name, inputs, params }) : undefined;
  if (previous) return { ...previous, resumes: previous.resumes + 1 };
  if (options.resume) options.onLog?.(`no unfinished run of ${loaded.name} to resume in ${output}; starting a new one`);
  const inputBytes = input.files.reduce((n, f) => n + f.size, 0);
  return {
    version: 1,
    runId: `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
    resumes: 0,
    job: loaded.name,
    inputs,
    params,
    splitSize: options.splitSize ?? defaultSplitSize(inputBytes, input.workers),
    reducers: loaded.definition.reduce ? (options.reducers ?? Math.max(1, input.workers)) : 0,
    ship: options.ship ?? false,
    startedAt: new Date(input.started).toISOString(),
  };
}

interface Engine {
  client: Client;
  servers: string[];
  mode: 'embedded' | 'servers';
  /** Rejects when the run cannot go on (every local worker died); never settles with --servers. */
  guard: Promise<never>;
}

/** The job servers the run submits to: the given ones (checked for workers), or a local cluster. */
async function startEngine(options: RunOptions, loaded: LoadedJob, workers: number, workspace: RunWorkspace): Promise<Engine> {
  let servers = options.servers ?? [];
  let guard: Promise<never> = new Promise<never>(() => {});
  const mode = servers.length > 0 ? 'servers' : 'embedded';
  if (mode === 'servers') {
    await checkServersHaveWorkers(servers, loaded.name, loaded.definition.reduce !== undefined);
  } else {
    const cluster = await startLocalCluster({
      workers,
      // Workers load the same module: built-ins by name, user modules by absolute path.
      job: isBuiltinName(options.job) ? options.job : loaded.source,
      cwd: options.cwd ?? process.cwd(),
      ...(options.onLog ? { onWorkerLog: options.onLog } : {}),
    });
    workspace.defer(() => cluster.close());
    servers = cluster.servers;
    guard = cluster.allWorkersDead;
  }
  const client = new Client({ servers });
  workspace.defer(() => client.close());
  return { client, servers, mode, guard };
}
