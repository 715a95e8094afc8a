/**
 * The task runtime that `gmr worker` runs: registers `gmr.map.<job>` and `gmr.reduce.<job>` for
 * the job modules it was started with, and runs map and reduce tasks from their payloads. Nothing
 * in a payload is ever executed as code: the payload only names a split, params and runs, and with
 * a run secret (the default) only payloads the driver signed are run at all. What a task may read
 * is confined (input-guard.ts) and bounded (line length, inflated size).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open } from 'node:fs/promises';
import { TaskError } from '../../errors.ts';
import { Worker, type WorkerOptions } from '../../worker/worker.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import type { LoadedJobDefinition } from '../job/define-job.ts';
import { stepReduces } from '../job/job-steps.ts';
import { loadJob, type LoadedJob } from '../job/load-job.ts';
import { gmrVersion, shortHash } from '../job/module-identity.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { DEFAULT_LIMITS, InputGuard, runFileOpener, type TaskLimits } from './input-guard.ts';
import { runMapParts, type MapPart, type MapSource } from './map-task.ts';
import {
  checkLineLengths,
  readBufferBlocks,
  readBufferRecords,
  readShippedCompressed,
  readShippedCompressedBlocks,
  readSplit,
  readSplitBlocks,
} from './record-reader.ts';
import { TaskChannel } from './task-channel.ts';
import { runReduceTask, type ReduceTaskSpec } from './reduce-task.ts';
import { TaskFailure } from './task-failure.ts';
import { guardSetup, reportFailure } from './failure-report.ts';
import { withAttemptOutput } from './attempt-output.ts';
import type { StatusSender } from './status-sender.ts';
import {
  beginFrame,
  decodeTask,
  failureFrame,
  keysFrame,
  mapFunctionName,
  moduleFunctionName,
  outputFrame,
  partialFrame,
  reduceFunctionName,
  type MapTaskHeader,
  type ReduceTaskHeader,
  type TaskHeaderBase,
} from '../shuffle/task-protocol.ts';
import { decodeMapHeader, decodeReduceHeader } from '../shuffle/task-headers.ts';
import { registerStreaming, type StreamingWorkerOptions } from './streaming-worker.ts';


export interface TaskWorkerOptions extends WorkerOptions {
  /** Built-in job names or paths to job modules. */
  jobs: string[];
  cwd?: string;
  /** Which task kinds to serve (default both): a worker may serve only map or only reduce tasks. */
  phases?: Array<'map' | 'reduce'>;
  /** The run secret: tasks must be signed with it and results are. Undefined only with `insecure`. */
  secret?: RunSecret;
  /** Accept unsigned tasks and send unsigned results (trusted single-user set-ups only). */
  insecure?: boolean;
  /** Folders (or files) map tasks may read below, after resolving symlinks. Default: [cwd]. */
  inputRoots?: string[];
  limits?: Partial<TaskLimits>;
  /** Serve streaming tasks of this spec too (streaming-worker.ts): the only commands the worker runs. */
  streaming?: Omit<StreamingWorkerOptions, 'phases' | 'cwd' | 'secret' | 'openInput' | 'limits'>;
}

/** What every task of one worker shares: its secret, what it may read, its limits. */
interface TaskContext {
  secret: RunSecret | undefined;
  guard: InputGuard;
  limits: TaskLimits;
}

export interface TaskWorker {
  worker: Worker;
  /** Job names this worker serves (function names are gmr.map.<name> and gmr.reduce.<name>). */
  names: string[];
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Waits two turns of the event loop. A task's records run synchronously, so a SIGTERM (or the
 * driver's stdin closing) that arrives meanwhile is only seen in the poll phase of the next turn;
 * the worker would otherwise deliver the result and grab the next task first, and a draining
 * worker would run one more task. Two setImmediate hops put that poll phase before the result.
 */
async function letSignalsIn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Sends the attempt's B frame and lets it leave before the task's synchronous work starts (the
 * connection batches a turn's writes until the next tick): the driver learns at once that the
 * attempt began, which starts its --task-timeout clock and lets it count a restart if this worker
 * dies mid-task.
 */
async function begin(channel: TaskChannel): Promise<void> {
  channel.send(beginFrame(attemptId()));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Who ran a task, for the run's manifest: `host:pid`. */
const WORKER_ID = `${hostname()}:${process.pid}`;

function attemptId(): string {
  return randomBytes(6).toString('hex');
}

function mapSource(header: MapTaskHeader, body: Buffer, context: TaskContext): MapSource {
  const source = rawMapSource(header, body, context);
  if (!header.skip || header.skip.length === 0) return source;
  // Bad records the driver decided to skip (--max-bad-records), by byte offset. (A mapBytes job
  // never reports a bad record, so it never gets a skip list: its source stays as it is.)
  const skip = new Set(header.skip);
  return {
    lines: (onRecord, onProgress) =>
      source.lines((line, pos) => {
        if (!skip.has(pos.offset)) onRecord(line, pos);
      }, onProgress),
    ...(source.blocks === undefined ? {} : { blocks: source.blocks }),
  };
}

function rawMapSource(header: MapTaskHeader, body: Buffer, context: TaskContext): MapSource {
  const split = { ...header.split, index: header.task, fileSize: header.split.offset + header.split.length };
  const { limits } = context;
  // The first step reads the input (below the input roots); a later step, the previous step's
  // output inside the run folder (the signed header names the run).
  const step = header.step ?? 0;
  const reading = { ...limits, open: step === 0 ? context.guard.openInput : runFileOpener(header.run, 'pairs', step) };
  if (!header.shipped) {
    return {
      lines: (onRecord, onProgress) => readSplit(split, onRecord, onProgress, reading),
      blocks: (onBlock, onProgress) => readSplitBlocks(split, onBlock, onProgress, reading),
    };
  }
  const start = header.shipped.start;
  const { path, compressed, length } = header.split;
  // Shipped .gz bytes inflate as a stream with the same limits as a file's: never gunzipSync.
  if (compressed && start !== 0) throw new TaskError(`Shipped .gz ${path}: expected its bytes from offset 0, received ${start}`);
  const done = (records: number, onProgress?: (n: number) => void): { records: number; bytes: number } => {
    onProgress?.(length);
    return { records, bytes: length };
  };
  return {
    lines: async (onRecord, onProgress) => {
      if (compressed) return done((await readShippedCompressed(path, body, onRecord, limits)).records, onProgress);
      checkLineLengths(body, start, limits.maxLineBytes, path);
      return done(readBufferRecords(body, start, onRecord).records, onProgress);
    },
    blocks: async (onBlock, onProgress) => {
      if (compressed) return done((await readShippedCompressedBlocks(path, body, onBlock, limits)).records, onProgress);
      checkLineLengths(body, start, limits.maxLineBytes, path);
      return done(readBufferBlocks(body, start, onBlock).records, onProgress);
    },
  };
}

/**
 * The header and body of a payload this worker may run: signed with its secret (unless
 * --insecure), for the unique key the server assigned, and naming the module this worker loaded.
 */
function checkedTask(job: LoadedJob, wjob: WorkerJob, context: TaskContext): { header: Record<string, unknown>; body: Buffer } {
  const decoded = decodeTask(wjob.payload, context.secret);
  const { header } = decoded;
  if (context.secret && header['unique'] !== wjob.unique) {
    throw new TaskError(`Refused a task signed for another unique key: expected ${JSON.stringify(wjob.unique)}, the payload names ${JSON.stringify(header['unique'])}`);
  }
  const module = header['module'] as { sha256?: unknown; gmr?: unknown } | undefined;
  if (module !== undefined && module.sha256 !== job.sha256) {
    throw new TaskError(
      `Refused a task for another version of ${job.builtin ? `built-in job ${job.name}` : job.source}: the driver's module has sha256 ${shortHash(String(module.sha256))} (gmr ${String(module.gmr)}), this worker's ${shortHash(job.sha256)} (gmr ${gmrVersion()}); start the workers with the driver's module`,
    );
  }
  return decoded;
}

/** Lines before byte `end` of a file, plus one: the 1-based line number of the record there. */
async function lineAt(path: string, end: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let line = 1;
    for (let pos = 0; pos < end; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) line++;
      pos += bytesRead;
    }
    return line;
  } finally {
    await handle.close();
  }
}

/**
 * A map failure names the record's line in its file. Without a lineBase from the driver the task
 * only knows the line within its split; on failure (rare) the file is read up to the record.
 */
async function withFileLine(error: unknown, header: MapTaskHeader): Promise<unknown> {
  if (!(error instanceof TaskFailure) || header.lineBase !== undefined || header.shipped) return error;
  if (header.split.offset === 0 || header.split.compressed) return error;
  if (error.line === undefined || error.recordOffset === undefined || error.path === undefined) return error;
  const line = await lineAt(error.path, error.recordOffset).catch(() => undefined);
  if (line === undefined) return error;
  const message = error.message.replace(`, line ${error.line} (byte`, `, line ${line} (byte`);
  return new TaskFailure(message, { job: error.job, phase: error.phase, index: error.index, path: error.path, offset: error.offset, length: error.length, line, recordOffset: error.recordOffset }, { cause: error.cause });
}

/** A job as a worker runs it: its definition, the module files whose frames are the user's, its identity. */
interface JobCode {
  definition: LoadedJobDefinition;
  modules: string[];
  loaded: LoadedJob;
}

async function runMap(job: JobCode, wjob: WorkerJob, context: TaskContext): Promise<Buffer> {
  const channel = new TaskChannel(wjob, context.secret);
  const { header: raw, body } = checkedTask(job.loaded, wjob, context);
  const header = decodeMapHeader(raw);
  return withAttemptOutput(wjob, channel, header.logLimit, async (status) => {
    try {
      return await runMapInner(job.definition, wjob, channel, header, body, context, status);
    } catch (error) {
      const report = reportFailure(await withFileLine(error, header), job.modules, header.split);
      channel.send(failureFrame(report.failure));
      throw report.error;
    }
  });
}

async function runMapInner(
  definition: LoadedJobDefinition,
  wjob: WorkerJob,
  channel: TaskChannel,
  header: MapTaskHeader,
  body: Buffer,
  context: TaskContext,
  status: StatusSender,
): Promise<Buffer> {
  await begin(channel);
  // Small files grouped into one task are its parts, each a whole file (map-task.ts runMapParts).
  const parts: MapPart[] = header.splits
    ? header.splits.map((split) => ({ split, source: mapSource({ ...header, split }, body, context) }))
    : [
        {
          split: header.split,
          ...(header.lineBase === undefined ? {} : { lineBase: header.lineBase }),
          ...(header.header === undefined ? {} : { header: header.header }),
          source: mapSource(header, body, context),
        },
      ];
  const total = parts.reduce((n, part) => n + part.split.length, 0);
  let lastStatus = -1;
  const step = definition.steps[header.step ?? 0];
  const reduces = step !== undefined && stepReduces(step);
  const summary = await runMapParts(
    definition,
    {
      ...taskSpec(header),
    },
    parts,
    (partition, chunk) => {
      channel.send(reduces ? partialFrame(partition, chunk) : outputFrame(chunk));
    },
    {
      onStatus: status.status,
      onProgress: (done) => {
        status.flush();
        if (done !== lastStatus) {
          lastStatus = done;
          wjob.sendStatus(Math.min(done, total), total);
        }
      },
    },
  );
  await letSignalsIn();
  return channel.complete(Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID })));
}

/** What a map and a reduce task take from every header: the job, step, task index, partitions and params. */
function taskSpec(header: TaskHeaderBase): ReduceTaskSpec {
  return {
    job: header.job,
    ...(header.step === undefined ? {} : { step: header.step }),
    index: header.task,
    partitions: header.partitions,
    params: header.params,
  };
}

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

async function runReduce(job: JobCode, wjob: WorkerJob, context: TaskContext): Promise<Buffer> {
  const channel = new TaskChannel(wjob, context.secret);
  try {
    const { header: raw, body } = checkedTask(job.loaded, wjob, context);
    const header = decodeReduceHeader(raw, body.length);
    return await withAttemptOutput(wjob, channel, header.logLimit, (status) => runReduceInner(job, wjob, channel, context, header, body, status));
  } catch (error) {
    const report = reportFailure(error, job.modules, { path: '' });
    channel.send(failureFrame(report.failure));
    throw report.error;
  }
}

async function runReduceInner(
  job: JobCode,
  wjob: WorkerJob,
  channel: TaskChannel,
  context: TaskContext,
  header: ReduceTaskHeader,
  body: Buffer,
  status: StatusSender,
): Promise<Buffer> {
  const definition = job.definition;
  await begin(channel);
  let runs: AsyncIterable<Buffer>[];
  let total = 0;
  if (header.shippedRuns) {
    runs = [];
    let pos = 0;
    for (const length of header.shippedRuns) {
      runs.push(once(body.subarray(pos, pos + length)));
      pos += length;
    }
    total = pos;
  } else {
    // A read stream allocates highWaterMark bytes per read whatever the file's size, and the merge
    // reads from every run at once: 2,500 runs at 1 MiB each were 2.5 GB. Share a 64 MiB budget.
    const paths = header.runs ?? [];
    const highWaterMark = Math.max(16 * 1024, Math.min(1 << 20, Math.floor((64 << 20) / Math.max(1, paths.length))));
    // Only map output inside the task's own run folder (input-guard.ts), never a path from anywhere.
    const openRun = runFileOpener(header.run, 'runs', header.step ?? 0);
    const handles = await Promise.all(paths.map((path) => openRun(path)));
    runs = handles.map((fh) => fh.createReadStream({ highWaterMark }));
  }
  wjob.sendStatus(0, total);
  const summary = await runReduceTask(
    definition,
    {
      ...taskSpec(header),
    },
    runs,
    (chunk) => channel.send(outputFrame(chunk)),
    { onStatus: status.status },
    (chunk) => channel.send(keysFrame(chunk)),
  );
  wjob.sendStatus(total, total);
  await letSignalsIn();
  return channel.complete(Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID })));
}

/** Loads the job modules, registers their functions and starts serving tasks. */
export async function startTaskWorker(options: TaskWorkerOptions): Promise<TaskWorker> {
  const { jobs, cwd, phases = ['map', 'reduce'], secret, insecure, inputRoots, limits, streaming, ...workerOptions } = options;
  if (jobs.length === 0 && streaming === undefined) throw new TaskError('A task worker needs at least one job (--jobs wordcount,./my-job.ts) or --streaming commands');
  if (!secret && insecure !== true) {
    throw new TaskError('A task worker needs the run secret (--secret-file FILE or GMR_SECRET), or --insecure to run unsigned tasks');
  }
  const context: TaskContext = {
    secret: insecure === true ? undefined : secret,
    guard: await InputGuard.create(inputRoots ?? [cwd ?? process.cwd()], cwd),
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
  // (Source maps of user modules: import-module.ts turns them on before the first one loads.)
  const loaded = await Promise.all(jobs.map((j) => loadJob(j, cwd)));
  // The driver's Client always asks for exceptions, so the failure report travels as WORK_EXCEPTION text.
  const worker = new Worker({
    failWith: 'WORK_EXCEPTION',
    failureData: (wjob, error) => (TaskChannel.of(wjob) ?? new TaskChannel(wjob, context.secret)).failure(error.message),
    ...workerOptions,
  });
  for (const job of loaded) {
    const code: JobCode = { definition: guardSetup(job.definition), modules: [job.source], loaded: job };
    const marker = moduleFunctionName(job.name, job.sha256);
    worker.register(marker, () => {
      throw new TaskError(`${marker} only marks which module this worker serves`);
    });
    if (phases.includes('map')) worker.register(mapFunctionName(job.name), (wjob) => runMap(code, wjob, context));
    if (code.definition.steps.some(stepReduces) && phases.includes('reduce')) {
      worker.register(reduceFunctionName(job.name), (wjob) => runReduce(code, wjob, context));
    }
  }
  const names = loaded.map((j) => j.name);
  if (streaming !== undefined) {
    const trust = { ...(context.secret ? { secret: context.secret } : {}), openInput: context.guard.openInput, limits: context.limits };
    names.push(registerStreaming(worker, { ...streaming, phases, ...trust, ...(cwd === undefined ? {} : { cwd }) }));
  }
  await worker.start();
  return {
    worker,
    names,
    close: (closeOptions) => worker.close(closeOptions),
  };
}
