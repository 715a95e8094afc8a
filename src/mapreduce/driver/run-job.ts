/**
 * runJob: the programmatic core of `gmr run`, as a short story. Check the options, load the job,
 * plan the run, open its workspace, start (or reach) the job servers, run the job's steps (each a
 * map phase and maybe a reduce phase), build the summary, commit the output (or stream it), and
 * always clean up.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { Client } from '../../client/client.ts';
import { RunError, UsageError } from '../../errors.ts';
import { loadJob, resolveParams, type LoadedJob } from '../job/load-job.ts';
import type { Params } from '../job/params.ts';
import type { LoadedJobDefinition } from '../job/define-job.ts';
import { stepReduces } from '../job/job-steps.ts';
import { packageVersion } from '../job/package-root.ts';
import { commandText, streamingJob, streamingWorkerArgs } from '../job/streaming-job.ts';
import { inputRoots, resolveInputs, type InputFile } from './input-files.ts';
import { checkInputsUnchanged, identityOf } from './input-identity.ts';
import type { LocalCluster } from './local-cluster.ts';
import { commitOutput, streamParts } from './output-commit.ts';
import { checkOutputDir } from './output-guard.ts';
import { runTrust } from './run-trust.ts';
import { checkServersHaveWorkers } from './preflight.ts';
import type { PhaseRunner } from './run-phase.ts';
import { checkRunOptions, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_LOST_ATTEMPTS, DEFAULT_TASK_TIMEOUT_MS, type RunOptions } from './run-options.ts';
import { latestStatus, phaseProgress, type RunProgress } from './run-progress.ts';
import { changedSincePlan, findResumable, type RunPlan } from './run-state.ts';
import { buildSummary, driverMaxRssBytes, failureFields, type RunSummary } from './run-summary.ts';
import { DEFAULT_RUN_LOG_LIMIT, DEFAULT_TASK_LOG_LIMIT, RunLogs } from './run-logs.ts';
import { RunWorkspace } from './run-workspace.ts';
import { StatusTracker, type TrackedStep } from './status-tracker.ts';
import { runSteps, type StepRun } from './run-steps.ts';
import { defaultSplitSize, planSplits } from './splits.ts';
import { startRunCluster, workersToStart } from './run-cluster.ts';
import { BadRecordBudget } from './bad-records.ts';
import { KEYS_FILE, OUTPUT_FILE } from './task-runner.ts';
import { DEFAULT_NO_WORKER_TIMEOUT_MS, watchWorkers } from './worker-watch.ts';
import { mapFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';

export type { RunOptions } from './run-options.ts';
export type { RunProgress } from './run-progress.ts';
export type { RunSummary } from './run-summary.ts';

export async function runJob(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  checkRunOptions(options);
  const cwd = options.cwd ?? process.cwd();
  const trust = runTrust(options);
  const workers = options.workers ?? availableParallelism();
  // The local workers start first: they boot, load the job and register while the driver loads
  // it too and plans (a process start is most of a small run's time). A run that fails to plan stops them.
  const embedded = !options.servers?.length;
  // Only roots that exist: a worker refuses a missing one, and its error would race the driver's
  // own one-line "Input path not found" onto stderr.
  const earlyRoots = embedded ? (await inputRoots(options.input, [], cwd)).filter((root) => existsSync(root)) : [];
  const localWorkers = embedded ? await workersToStart(options, workers, cwd) : 0;
  let cluster = embedded ? startRunCluster(options, localWorkers, workers - localWorkers, cwd, trust, earlyRoots) : undefined;
  let workspace: RunWorkspace;
  let loaded: LoadedJob;
  let params: Params;
  let output: string | undefined;
  let plan: RunPlan;
  let splits: ReturnType<typeof planSplits>;
  try {
    loaded = options.streaming ? streamingJob(options.streaming) : await loadJob(options.job as string, cwd);
    if (options.streaming && Object.keys(options.params ?? {}).length > 0) throw new UsageError('A streaming job takes no --param: its commands take their own arguments');
    if (options.streaming && options.maxBadRecords !== undefined) throw new UsageError('--max-bad-records does not apply to a streaming job: a failing command names no record to skip');
    params = resolveParams(loaded.definition, options.params ?? {}, loaded.name);
    const files = await resolveInputs(options.input, cwd);
    if (files.every((f) => f.size === 0)) {
      options.onLog?.(`warning: the input is empty (${files.length} file${files.length === 1 ? '' : 's'}, 0 bytes): ${options.input.join(', ')}; the output will be empty`);
    }
    output = options.output === undefined ? undefined : resolve(cwd, options.output);
    if (output) await checkOutputDir(output, options.overwrite ?? false, [...options.input.map((i) => resolve(cwd, i)), ...files.map((f) => f.path)]);
    if (cluster) {
      // An input file that a symlink leads out of the inputs' folders is a root of its own, which
      // the workers started above were not given: start them again with it (rare).
      const roots = await inputRoots(options.input, files, cwd);
      if (roots.length > earlyRoots.length) {
        await cluster.then((c) => c.close(), () => {});
        cluster = startRunCluster(options, localWorkers, workers - localWorkers, cwd, trust, roots);
      }
    }
    plan = await planRun(options, { loaded, params, files, output, workers, started });
    // Small files share map tasks, unless a task's bytes travel in its payload (--ship) or its bad
    // records are skipped by offset (--max-bad-records): both name one file per task.
    const groupSmallFiles = !plan.ship && options.maxBadRecords === undefined;
    splits = planSplits(files, { splitSize: plan.splitSize, workers, groupSmallFiles });
    workspace = await RunWorkspace.open({ ...(output ? { output } : {}), plan, keepOnFailure: options.resume ?? false });
  } catch (error) {
    await cluster?.then((c) => c.close(), () => {});
    throw error;
  }
  const local = cluster;
  if (local) workspace.defer(() => local.then((c) => c.close(), () => {}));
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the job loaded (a --deadline that passed, a signal): the listener came too late.
  if (options.signal?.aborted) onAbort();
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
    tracker.phase(0, 'plan');
    // With --servers: while no worker serves the run's functions, progress and the status file say so.
    let noWorker: RunProgress['noWorker'];
    let reportNow = (): void => {};
    const engine = await startEngine(options, loaded, local, workspace, (since, functions, timeoutMs) => {
      noWorker = since === undefined ? undefined : { functions, sinceElapsedMs: since - started, timeoutMs };
      tracker.noWorker(since === undefined ? null : { since: new Date(since).toISOString(), functions, timeoutMs });
      reportNow();
    });
    tracker.setServers(engine.servers);
    // Unique keys differ per driver, so a resumed driver never joins a job of the dead one halfway.
    const uniqueRun = plan.resumes > 0 ? `${plan.runId}.${plan.resumes}` : plan.runId;
    const signing = { secret: trust.key, module: { sha256: loaded.sha256, gmr: packageVersion() } };
    const badRecords = options.maxBadRecords === undefined ? undefined : new BadRecordBudget(options.maxBadRecords);
    const stepCount = loaded.definition.steps.length;
    let current: RunProgress['phase'] = 'map';
    let currentStep = 0;
    let records: StepRun = { map: [], reduce: [], reduces: false, started, mapDone: 0, reduceDone: 0, resumed: { map: 0, reduce: 0 } };
    // Task state changes report once per event-loop turn (reportSoon): a worker's WORK_COMPLETE
    // and its next task's first frame can arrive in one read, and the first task is only marked
    // done a few promise hops later; reporting at once showed both as running (issue 11, item 8).
    let soon: NodeJS.Immediate | undefined;
    const report = (): void => {
      clearImmediate(soon);
      soon = undefined;
      tracker.progress();
      options.onProgress?.({
        phase: current,
        step: currentStep + 1,
        steps: stepCount,
        map: phaseProgress(records.map),
        reduce: phaseProgress(records.reduce),
        elapsedMs: Date.now() - started,
        ...statusField(latestStatus(current === 'reduce' ? records.reduce : records.map)),
        ...(noWorker ? { noWorker } : {}),
      });
    };
    const reportSoon = (): void => {
      soon ??= setImmediate(report);
    };
    workspace.defer(async () => clearImmediate(soon));
    reportNow = report;
    const inFlight = Math.max(2, workers * 2);
    // Every task in flight listens for the run's abort: more than Node's default of 10 is expected.
    setMaxListeners(inFlight + 10, aborter.signal);
    const runner: PhaseRunner = {
      client: engine.client,
      workspace,
      fanOut: pLimit(inFlight),
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      maxLostAttempts: options.maxLostAttempts ?? DEFAULT_MAX_LOST_ATTEMPTS,
      secret: trust.key,
      ...(options.taskTimeoutMs === 0 ? {} : { timeoutMs: options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS }),
      signal: aborter.signal,
      abort: (reason) => aborter.abort(reason),
      guard: engine.guard,
      onStatus: reportSoon,
      ...(options.onLog ? { onWarning: options.onLog } : {}),
      logs: new RunLogs({
        output,
        run: uniqueRun,
        taskLimit: options.taskLogLimit ?? DEFAULT_TASK_LOG_LIMIT,
        runLimit: options.runLogLimit ?? DEFAULT_RUN_LOG_LIMIT,
        steps: stepCount,
        ...(options.onTaskLog ? { forward: options.onTaskLog } : {}),
      }),
    };

    const runsSoFar: StepRun[] = [];
    const summaryInput = (stepRuns: readonly StepRun[]): Parameters<typeof buildSummary>[0] => ({
      plan,
      output,
      steps: stepRuns,
      started,
      badRecords: badRecords?.records ?? [],
      servers: engine.servers,
      mode: engine.mode,
      signed: trust.key !== undefined,
    });
    soFar = () => buildSummary(summaryInput(runsSoFar));

    const stepRuns = await runSteps({
      runner,
      definition: loaded.definition,
      job: loaded.name,
      runId: uniqueRun,
      params,
      ship: plan.ship,
      signing,
      reducers: stepReducers(plan),
      splitSize: plan.splitSize,
      workers,
      splits,
      logLimit: options.taskLogLimit ?? DEFAULT_TASK_LOG_LIMIT,
      ...(badRecords ? { badRecords } : {}),
      ...(options.streaming ? { stream: { ...options.streaming, ...(runner.timeoutMs === undefined ? {} : { idleMs: runner.timeoutMs }) } } : {}),
      onPhase: (step, phase, run) => {
        if (phase === 'map') {
          steps.push({ map: run.map, reduce: run.reduce });
          runsSoFar.push(run);
        }
        currentStep = step;
        current = phase;
        records = run;
        tracker.phase(step, phase);
        report();
      },
    });
    // The commit needs no worker: the local ones exit while it runs, not after it (issue 15, a small run's end).
    local?.then((c) => c.stopWorkers()).catch(() => {});
    current = 'commit';
    tracker.phase(stepCount - 1, 'commit');
    report();

    const summary = buildSummary(summaryInput(stepRuns));
    // An input that changed while tasks read it would commit a mix of two versions.
    await checkInputsUnchanged(plan.inputs);
    // Only the last step's output is the run's output.
    const last = stepRuns[stepRuns.length - 1]!;
    const parts = (last.reduces ? last.reduce : last.map).map((r) => ({ index: r.index, path: r.files.get(OUTPUT_FILE), keys: r.files.get(KEYS_FILE) }));
    if (output) await commitOutput(output, parts, summary, summary.badRecords, workspace.folder);
    else if (options.stdout) await streamParts(parts, options.stdout, last.reduces);
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

function statusField(status: RunProgress['status']): Pick<RunProgress, 'status'> {
  return status === undefined ? {} : { status };
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
  const inputs = input.files.map(identityOf);
  const previous = options.resume && output ? await findResumable(output, { job: loaded.name, inputs, params }) : undefined;
  if (previous) {
    // Finished map tasks of a file that is not the same any more would mix old and new results.
    const changed = changedSincePlan(previous, inputs);
    if (changed.length > 0) {
      throw new UsageError(
        `--resume: ${changed.map((c) => `${c.path} changed since run ${previous.runId} (${c.change})`).join('; ')}; its finished tasks cannot be reused. Run without --resume to start over`,
      );
    }
    return { ...previous, resumes: previous.resumes + 1 };
  }
  if (options.resume) options.onLog?.(`no unfinished run of ${loaded.name} to resume in ${output}; starting a new one`);
  const inputBytes = input.files.reduce((n, f) => n + f.size, 0);
  return {
    version: 1,
    // Unguessable (96 random bits): unique keys carry it, so no one can submit a task's key first.
    runId: `${Date.now().toString(36)}${randomBytes(12).toString('hex')}`,
    resumes: 0,
    job: loaded.name,
    inputs,
    params,
    splitSize: options.splitSize ?? defaultSplitSize(inputBytes, input.workers, { combines: typeof loaded.definition.steps[0]?.combine === 'function' }),
    ...planReducers(loaded.definition, options.reducers ?? Math.max(1, input.workers)),
    ship: options.ship ?? false,
    startedAt: new Date(input.started).toISOString(),
  };
}

/** Reduce tasks per step: the step's own `reducers`, else --reducers; 0 for a map-only step. */
function planReducers(definition: LoadedJobDefinition, reducers: number): Pick<RunPlan, 'reducers' | 'stepReducers'> {
  const perStep = definition.steps.map((step) => (stepReduces(step) ? (step.reducers ?? reducers) : 0));
  return { reducers: perStep[0] ?? 0, stepReducers: perStep };
}

/** A plan's reducers per step (a plan written before steps has one step). */
function stepReducers(plan: RunPlan): number[] {
  return plan.stepReducers ?? [plan.reducers];
}

/** How a worker for this run is started, after `gmr worker --servers …`. */
function workerFlags(options: RunOptions): string {
  if (!options.streaming) return `--jobs ${options.job ?? ''}`;
  return streamingWorkerArgs(options.streaming).map((word) => (word.startsWith('--') ? word : commandText([word]))).join(' ');
}

interface Engine {
  client: Client;
  servers: string[];
  mode: 'embedded' | 'servers';
  /** Rejects when the run cannot go on (every local worker died); never settles with --servers. */
  guard: Promise<never>;
}

/** The job servers the run submits to: the given ones (checked for workers), or the local cluster. */
async function startEngine(
  options: RunOptions,
  loaded: LoadedJob,
  cluster: Promise<LocalCluster> | undefined,
  workspace: RunWorkspace,
  onNoWorker: (since: number | undefined, functions: string[], timeoutMs: number) => void,
): Promise<Engine> {
  let servers = options.servers ?? [];
  let guard: Promise<never> = new Promise<never>(() => {});
  const mode = servers.length > 0 ? 'servers' : 'embedded';
  if (mode === 'servers') {
    await checkServersHaveWorkers(servers, loaded, loaded.definition.steps.some(stepReduces), options.tls, workerFlags(options));
    const reduces = loaded.definition.steps.some(stepReduces);
    if (options.noWorkerTimeoutMs !== 0) {
      const functions = [mapFunctionName(loaded.name), ...(reduces ? [reduceFunctionName(loaded.name)] : [])];
      const timeoutMs = options.noWorkerTimeoutMs ?? DEFAULT_NO_WORKER_TIMEOUT_MS;
      const watch = watchWorkers({
        servers,
        functions,
        job: loaded.name,
        workerFlags: workerFlags(options),
        timeoutMs,
        onChange: (since) => onNoWorker(since, functions, timeoutMs),
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.onLog ? { onLog: options.onLog } : {}),
      });
      workspace.defer(async () => watch.stop());
      guard = watch.failed;
    }
  } else if (cluster) {
    const started = await cluster;
    servers = started.servers;
    guard = started.allWorkersDead;
  }
  // The embedded cluster is plain and loopback-only; TLS is for the given servers.
  const client = new Client({ servers, ...(mode === 'servers' && options.tls ? { tls: options.tls } : {}) });
  // The embedded cluster closes beside the client, not after it: both wait for their sockets' last
  // bytes (issue 15, a small run's end). The cluster's own cleanup, registered earlier, awaits the same close.
  workspace.defer(() => Promise.all([client.close(), cluster?.then((c) => c.close(), () => {})]));
  return { client, servers, mode, guard };
}
