/**
 * The task runtime that `gmr worker` runs: registers `gmr.map.<job>` and `gmr.reduce.<job>` for
 * the job modules it was started with, and runs map and reduce tasks from their payloads. Nothing
 * in a payload is ever executed as code: the payload only names a split, params and runs.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { TaskError } from '../../errors.ts';
import { Worker, type WorkerOptions } from '../../worker/worker.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import type { LoadedJobDefinition } from '../job/define-job.ts';
import { stepReduces } from '../job/job-steps.ts';
import { loadJob } from '../job/load-job.ts';
import { runMapTask, type MapSource } from './map-task.ts';
import { readBufferBlocks, readBufferRecords, readSplit, readSplitBlocks } from './record-reader.ts';
import { runReduceTask } from './reduce-task.ts';
import { TaskFailure } from './task-failure.ts';
import { guardSetup, reportFailure } from './failure-report.ts';
import {
  beginFrame,
  decodeTask,
  failureFrame,
  keysFrame,
  mapFunctionName,
  outputFrame,
  partialFrame,
  reduceFunctionName,
  type MapTaskHeader,
  type ReduceTaskHeader,
} from '../shuffle/task-protocol.ts';
import { decodeMapHeader, decodeReduceHeader } from '../shuffle/task-headers.ts';


export interface TaskWorkerOptions extends WorkerOptions {
  /** Built-in job names or paths to job modules. */
  jobs: string[];
  cwd?: string;
  /** Which task kinds to serve (default both): a worker may serve only map or only reduce tasks. */
  phases?: Array<'map' | 'reduce'>;
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
async function begin(wjob: WorkerJob): Promise<void> {
  wjob.sendData(beginFrame(attemptId()));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Who ran a task, for the run's manifest: `host:pid`. */
const WORKER_ID = `${hostname()}:${process.pid}`;

function attemptId(): string {
  return randomBytes(6).toString('hex');
}

function mapSource(header: MapTaskHeader, body: Buffer): MapSource {
  const source = rawMapSource(header, body);
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

function rawMapSource(header: MapTaskHeader, body: Buffer): MapSource {
  const split = { ...header.split, index: header.task, fileSize: header.split.offset + header.split.length };
  if (!header.shipped) {
    return {
      lines: (onRecord, onProgress) => readSplit(split, onRecord, onProgress),
      blocks: (onBlock, onProgress) => readSplitBlocks(split, onBlock, onProgress),
    };
  }
  const start = header.shipped.start;
  const bytes = (): Buffer => (header.split.compressed ? gunzipSync(body) : body);
  return {
    lines: async (onRecord, onProgress) => {
      const result = readBufferRecords(bytes(), start, onRecord);
      onProgress?.(header.split.length);
      return { records: result.records, bytes: header.split.length };
    },
    blocks: async (onBlock, onProgress) => {
      const result = readBufferBlocks(bytes(), start, onBlock);
      onProgress?.(header.split.length);
      return { records: result.records, bytes: header.split.length };
    },
  };
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

/** A job as a worker runs it: its definition and the module files whose frames are the user's. */
interface JobCode {
  definition: LoadedJobDefinition;
  modules: string[];
}

async function runMap(job: JobCode, wjob: WorkerJob): Promise<Buffer> {
  const { header: raw, body } = decodeTask(wjob.payload);
  const header = decodeMapHeader(raw);
  try {
    return await runMapInner(job.definition, wjob, header, body);
  } catch (error) {
    const report = reportFailure(await withFileLine(error, header), job.modules, header.split);
    wjob.sendData(failureFrame(report.failure));
    throw report.error;
  }
}

async function runMapInner(definition: LoadedJobDefinition, wjob: WorkerJob, header: MapTaskHeader, body: Buffer): Promise<Buffer> {
  await begin(wjob);
  const total = header.split.length;
  let lastStatus = -1;
  const step = definition.steps[header.step ?? 0];
  const reduces = step !== undefined && stepReduces(step);
  const summary = await runMapTask(
    definition,
    {
      job: header.job,
      ...(header.step === undefined ? {} : { step: header.step }),
      index: header.task,
      partitions: header.partitions,
      params: header.params,
      split: header.split,
      ...(header.lineBase === undefined ? {} : { lineBase: header.lineBase }),
      ...(header.header === undefined ? {} : { header: header.header }),
    },
    mapSource(header, body),
    (partition, chunk) => {
      wjob.sendData(reduces ? partialFrame(partition, chunk) : outputFrame(chunk));
    },
    {
      onProgress: (done) => {
        if (done !== lastStatus) {
          lastStatus = done;
          wjob.sendStatus(Math.min(done, total), total);
        }
      },
    },
  );
  await letSignalsIn();
  return Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID }));
}

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

async function runReduce(job: JobCode, wjob: WorkerJob): Promise<Buffer> {
  try {
    return await runReduceInner(job.definition, wjob);
  } catch (error) {
    const report = reportFailure(error, job.modules, { path: '' });
    wjob.sendData(failureFrame(report.failure));
    throw report.error;
  }
}

async function runReduceInner(definition: LoadedJobDefinition, wjob: WorkerJob): Promise<Buffer> {
  const { header: raw, body } = decodeTask(wjob.payload);
  const header = decodeReduceHeader(raw, body.length);
  await begin(wjob);
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
    runs = paths.map((path) => createReadStream(path, { highWaterMark }));
  }
  wjob.sendStatus(0, total);
  const summary = await runReduceTask(
    definition,
    {
      job: header.job,
      ...(header.step === undefined ? {} : { step: header.step }),
      index: header.task,
      partitions: header.partitions,
      params: header.params,
    },
    runs,
    (chunk) => wjob.sendData(outputFrame(chunk)),
    {},
    (chunk) => wjob.sendData(keysFrame(chunk)),
  );
  wjob.sendStatus(total, total);
  await letSignalsIn();
  return Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID }));
}

/** Loads the job modules, registers their functions and starts serving tasks. */
export async function startTaskWorker(options: TaskWorkerOptions): Promise<TaskWorker> {
  const { jobs, cwd, phases = ['map', 'reduce'], ...workerOptions } = options;
  if (jobs.length === 0) throw new TaskError('A task worker needs at least one job (--jobs wordcount,./my-job.ts)');
  // Stacks of job code name the user's source lines (tsx maps .ts itself; this covers .js with maps).
  process.setSourceMapsEnabled(true);
  const loaded = await Promise.all(jobs.map((j) => loadJob(j, cwd)));
  // The driver's Client always asks for exceptions, so the failure report travels as WORK_EXCEPTION text.
  const worker = new Worker({ failWith: 'WORK_EXCEPTION', ...workerOptions });
  for (const job of loaded) {
    const code: JobCode = { definition: guardSetup(job.definition), modules: [job.source] };
    if (phases.includes('map')) worker.register(mapFunctionName(job.name), (wjob) => runMap(code, wjob));
    if (code.definition.steps.some(stepReduces) && phases.includes('reduce')) {
      worker.register(reduceFunctionName(job.name), (wjob) => runReduce(code, wjob));
    }
  }
  await worker.start();
  return {
    worker,
    names: loaded.map((j) => j.name),
    close: (closeOptions) => worker.close(closeOptions),
  };
}
