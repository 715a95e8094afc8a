/**
 * runJob: the programmatic core of `gmr run`. Plans splits, fans map tasks out as foreground
 * Gearman jobs with deterministic unique keys (bounded by p-limit), spills their partitioned
 * partials to a run folder, runs one reduce task per partition, and commits the output.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { Client } from '../../client/client.ts';
import { RunError, UsageError } from '../../errors.ts';
import { resolveInputs, type InputFile } from './input-files.ts';
import { isBuiltinName, loadJob, resolveParams } from '../job/load-job.ts';
import { startLocalCluster, type LocalCluster } from './local-cluster.ts';
import { checkOutputDir, commitOutput, streamParts } from './output-commit.ts';
import { buildMapTasks, buildReduceTask } from './task-plan.ts';
import { checkServersHaveWorkers } from './preflight.ts';
import { acquireOutputLock } from './run-lock.ts';
import { findResumable, loadDoneTask, markTaskDone, writePlan } from './run-state.ts';
import { BadRecordBudget, runTask, type BadRecord, type TaskRecord } from './task-runner.ts';
import { defaultSplitSize, describeSplit, planSplits } from './splits.ts';
import { mapFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';

export interface RunOptions {
  /** Built-in job name or path to a job module. */
  job: string;
  input: string[];
  /** Output folder; without it the result goes to `stdout`. */
  output?: string;
  overwrite?: boolean;
  params?: Record<string, string>;
  reducers?: number;
  splitSize?: number;
  maxAttempts?: number;
  /** Abandon a task attempt that runs on a worker (time in the queue does not count) longer than this (ms) and run it again. Default: no limit. */
  taskTimeoutMs?: number;
  /**
   * Skip up to this many records whose mapper throws (after maxAttempts attempts each), listing
   * them in `_bad_records`; the run fails above it. Undefined: the first bad record fails the run.
   */
  maxBadRecords?: number;
  /** External job servers; without them an embedded server and local workers are started. */
  servers?: string[];
  /** Local worker processes (embedded mode). Default: one per core. */
  workers?: number;
  /**
   * Resume the newest unfinished run of the same job, inputs and params in `output`/_temporary:
   * map tasks that finished are not run again. Needs `output`. A run with resume keeps its run
   * folder when it fails, so that the next one can resume it.
   */
  resume?: boolean;
  /** Send split bytes in payloads, for workers that do not share the filesystem. */
  ship?: boolean;
  cwd?: string;
  stdout?: NodeJS.WritableStream;
  onProgress?: (progress: RunProgress) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PhaseProgress {
  total: number;
  done: number;
  running: number;
  failed: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface RunProgress {
  phase: 'map' | 'reduce' | 'commit';
  map: PhaseProgress;
  reduce: PhaseProgress;
  elapsedMs: number;
}

export interface RunSummary {
  job: string;
  runId: string;
  ok: true;
  output: string | null;
  inputs: Array<{ path: string; size: number; mtimeMs: number }>;
  params: Record<string, string>;
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
    attempts: Array<{ attempt: number; ms: number; error?: string; restarts?: number; worker?: string }>;
  }>;
}

function phaseProgress(records: TaskRecord[]): PhaseProgress {
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

function addCounters(into: Record<string, number>, from: unknown): void {
  if (!from || typeof from !== 'object') return;
  for (const [k, v] of Object.entries(from as Record<string, unknown>)) {
    if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
  }
}

function num(summary: Record<string, unknown> | undefined, key: string): number {
  const v = summary?.[key];
  return typeof v === 'number' ? v : 0;
}

export async function runJob(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const cwd = options.cwd ?? process.cwd();
  const maxAttempts = options.maxAttempts ?? 3;
  if (options.maxBadRecords !== undefined && (!Number.isInteger(options.maxBadRecords) || options.maxBadRecords < 0)) {
    throw new UsageError(`--max-bad-records must be a whole number >= 0, received ${options.maxBadRecords}`);
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new UsageError(`--max-attempts must be a whole number >= 1, received ${maxAttempts}`);
  if (options.input.length === 0) throw new UsageError('No input: give --input with files, folders or globs');

  const loaded = await loadJob(options.job, cwd);
  const definition = loaded.definition;
  const params = resolveParams(definition, options.params ?? {}, loaded.name) as Record<string, string>;
  const files: InputFile[] = await resolveInputs(options.input, cwd);
  const output = options.output === undefined ? undefined : resolve(cwd, options.output);
  if (output) await checkOutputDir(output, options.overwrite ?? false);
  const outputExisted = output !== undefined && existsSync(output);

  if (options.resume && !output) throw new UsageError('--resume needs --output: the run folder lives in the output folder');
  const inputs = files.map((f) => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs }));
  const previous = options.resume && output ? await findResumable(output, { job: loaded.name, inputs, params }) : undefined;
  if (options.resume && !previous) options.onLog?.(`no unfinished run of ${loaded.name} to resume in ${output}; starting a new one`);

  const workers = options.workers ?? availableParallelism();
  const reducers = previous?.reducers ?? (definition.reduce ? (options.reducers ?? Math.max(1, workers)) : 0);
  if (definition.reduce && (!Number.isInteger(reducers) || reducers < 1)) throw new UsageError(`--reducers must be a whole number >= 1, received ${reducers}`);
  const inputBytes = files.reduce((n, f) => n + f.size, 0);
  const splitSize = previous?.splitSize ?? options.splitSize ?? defaultSplitSize(inputBytes, workers);
  const splits = planSplits(files, { splitSize, workers });

  const runId = previous?.runId ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const resumes = previous ? previous.resumes + 1 : 0;
  // Unique keys differ per driver, so a resumed driver never joins a job of the dead one halfway.
  const uniqueRun = resumes > 0 ? `${runId}.${resumes}` : runId;
  const temporary = output ? join(output, '_temporary', runId) : join(tmpdir(), `gmr-run-${runId}`);
  const releaseLock = output ? await acquireOutputLock(output, runId) : async () => {};
  await mkdir(temporary, { recursive: true });
  if (output) {
    await writePlan(temporary, {
      version: 1,
      runId,
      resumes,
      job: loaded.name,
      inputs,
      params,
      splitSize,
      reducers,
      ship: options.ship ?? false,
      startedAt: previous?.startedAt ?? new Date(started).toISOString(),
    });
  }

  // Workers load the same module: built-ins by name, user modules by absolute path.
  const jobSource = isBuiltinName(options.job) ? options.job : loaded.source;
  let cluster: LocalCluster | undefined;
  let client: Client | undefined;
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let committed = false;
  try {
    let servers: string[];
    if (options.servers && options.servers.length > 0) {
      servers = options.servers;
      await checkServersHaveWorkers(servers, loaded.name, definition.reduce !== undefined);
    } else {
      cluster = await startLocalCluster({
        workers,
        job: jobSource,
        cwd,
        ...(options.onLog ? { onWorkerLog: options.onLog } : {}),
      });
      servers = cluster.servers;
    }
    client = new Client({ servers });

    const mapRecords: TaskRecord[] = splits.map((s) => ({
      phase: 'map',
      index: s.index,
      input: describeSplit(s),
      attempts: [],
      files: new Map(),
      bytesDone: 0,
      bytesTotal: s.length,
      state: 'pending',
    }));
    const reduceRecords: TaskRecord[] = Array.from({ length: reducers }, (_, index) => ({
      phase: 'reduce',
      index,
      attempts: [],
      files: new Map(),
      bytesDone: 0,
      bytesTotal: 0,
      state: 'pending',
    }));
    let phase: RunProgress['phase'] = 'map';
    const report = (): void =>
      options.onProgress?.({ phase, map: phaseProgress(mapRecords), reduce: phaseProgress(reduceRecords), elapsedMs: Date.now() - started });

    let resumedTasks = 0;
    const badRecords = options.maxBadRecords === undefined ? undefined : new BadRecordBudget(options.maxBadRecords);
    const inFlight = Math.max(2, workers * 2);
    const fanOut = pLimit(inFlight);
    // Every task in flight listens for the run's abort: more than Node's default of 10 is expected.
    setMaxListeners(inFlight + 10, aborter.signal);
    const failFast = <T>(p: Promise<T>): Promise<T> =>
      p.catch((error: unknown) => {
        aborter.abort(error);
        throw error;
      });
    const guard = cluster ? cluster.allWorkersDead : new Promise<never>(() => {});

    // Map phase.
    const mapTasks = await buildMapTasks({ runId: uniqueRun, job: loaded.name, definition, splits, params, partitions: reducers, ship: options.ship ?? false });
    await Promise.race([
      guard,
      Promise.all(
        mapTasks.map((task, i) =>
          fanOut(async () => {
            if (aborter.signal.aborted) throw aborter.signal.reason as Error;
            const record = mapRecords[i] as TaskRecord;
            const dir = join(temporary, `map-${String(i).padStart(5, '0')}`);
            if (previous && (await loadDoneTask(dir, record))) {
              resumedTasks++;
              report();
              return record;
            }
            const payload = await task.prepare();
            await failFast(
              runTask({
                client: client as Client,
                fn: mapFunctionName(loaded.name),
                unique: task.unique,
                payload,
                ...(badRecords ? { badRecords } : {}),
                record,
                dir,
                outputName: 'output',
                maxAttempts,
                ...(options.taskTimeoutMs === undefined ? {} : { timeoutMs: options.taskTimeoutMs }),
                signal: aborter.signal,
                onStatus: report,
              }),
            );
            if (output) await markTaskDone(dir, record);
            return record;
          }),
        ),
      ),
    ]);
    const mapDone = Date.now();

    // Reduce phase.
    phase = 'reduce';
    report();
    if (reducers > 0) {
      await Promise.race([
        guard,
        Promise.all(
          reduceRecords.map((record, p) =>
            fanOut(async () => {
              const runs = mapRecords.map((m) => m.files.get(p)).filter((f): f is string => f !== undefined);
              const task = await buildReduceTask({ runId: uniqueRun, job: loaded.name, partition: p, partitions: reducers, params, runs, ship: options.ship ?? false });
              record.bytesTotal = task.bytes;
              return failFast(
                runTask({
                  client: client as Client,
                  fn: reduceFunctionName(loaded.name),
                  unique: task.unique,
                  payload: task.payload,
                  record,
                  dir: join(temporary, `reduce-${String(p).padStart(5, '0')}`),
                  outputName: 'output',
                  maxAttempts,
                  ...(options.taskTimeoutMs === undefined ? {} : { timeoutMs: options.taskTimeoutMs }),
                  signal: aborter.signal,
                  onStatus: report,
                }),
              );
            }),
          ),
        ),
      ]);
    }
    const reduceDone = Date.now();
    phase = 'commit';
    report();

    const outputRecords = definition.reduce ? reduceRecords : mapRecords;
    const parts = outputRecords.map((r) => ({ index: r.index, path: r.files.get(-1) }));
    const counters: Record<string, number> = {};
    for (const r of [...mapRecords, ...reduceRecords]) addCounters(counters, r.summary?.['counters']);
    const allTasks = [...mapRecords, ...reduceRecords];
    const summary: RunSummary = {
      job: loaded.name,
      runId,
      ok: true,
      output: output ?? null,
      inputs,
      params,
      counters,
      mapTasks: mapRecords.length,
      reduceTasks: reduceRecords.length,
      attempts: allTasks.reduce((n, r) => n + r.attempts.length, 0),
      inputBytes,
      records: mapRecords.reduce((n, r) => n + num(r.summary, 'records'), 0),
      outputRecords: definition.reduce
        ? reduceRecords.reduce((n, r) => n + num(r.summary, 'outputRecords'), 0)
        : mapRecords.reduce((n, r) => n + num(r.summary, 'emitted'), 0),
      timings: { startedAt: new Date(started).toISOString(), mapMs: mapDone - started, reduceMs: reduceDone - mapDone, totalMs: Date.now() - started },
      driverMaxRssBytes: process.resourceUsage().maxRSS * 1024,
      badRecords: badRecords?.records ?? [],
      resumedMapTasks: resumedTasks,
      servers,
      mode: cluster ? 'embedded' : 'servers',
      tasks: allTasks.map((r) => ({
        phase: r.phase,
        index: r.index,
        ...(r.input ? { input: r.input } : {}),
        attempts: r.attempts.map((a) => ({
          attempt: a.attempt,
          ms: a.ms,
          ...(a.error ? { error: a.error } : {}),
          ...(a.restarts ? { restarts: a.restarts } : {}),
          ...(a.worker ? { worker: a.worker } : {}),
        })),
      })),
    };
    if (output) {
      await commitOutput(output, parts, summary, summary.badRecords);
    } else {
      await streamParts(parts.map((p) => p.path), options.stdout ?? process.stdout, definition.reduce !== undefined);
    }
    committed = true;
    summary.timings.totalMs = Date.now() - started;
    summary.driverMaxRssBytes = process.resourceUsage().maxRSS * 1024;
    return summary;
  } catch (error) {
    aborter.abort(error);
    if (error instanceof RunError || error instanceof UsageError) throw error;
    throw new RunError(`Job ${loaded.name} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await client?.close().catch(() => {});
    await cluster?.close().catch(() => {});
    if (committed || !options.resume) await rm(temporary, { recursive: true, force: true }).catch(() => {});
    await releaseLock().catch(() => {});
    // Another run may share _temporary; remove it only when it is empty.
    if (output) await rmdir(join(output, '_temporary')).catch(() => {});
    // A failed run leaves no output behind, not even an empty folder it created.
    if (output && !committed && !outputExisted) await rmdir(output).catch(() => {});
  }
}
