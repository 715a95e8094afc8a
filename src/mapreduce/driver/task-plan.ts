/**
 * Builds the Gearman payloads of a run's tasks (see task-protocol.ts): map tasks name their split
 * (or ship its bytes), reduce tasks name the sorted runs of their partition (or ship them).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { JobDefinitionError } from '../../errors.ts';
import type { InputFormat, LoadedJobDefinition, Params } from '../job/define-job.ts';
import { resolveInputFormat } from '../job/input-format.ts';
import { alignSplit, type Split } from '../shuffle/split.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { encodeTask, WIRE_VERSION, type MapTaskHeader, type ModuleIdentity, type ReduceTaskHeader } from '../shuffle/task-protocol.ts';
import type { StreamTaskField } from '../shuffle/streaming-header.ts';


/**
 * Builds the payload of one attempt: the header names the attempt's unique key, and with a run
 * secret the payload is signed for it. `skip`: byte offsets of bad records (map tasks).
 */
export type PayloadBuilder = (skip: number[], unique: string) => Buffer;

export interface PlannedTask {
  unique: string;
  payload: PayloadBuilder;
  bytes: number;
}

/** What every task of a run carries and how its payloads are signed. */
export interface TaskSigning {
  /** Undefined with --insecure. */
  secret: RunSecret | undefined;
  module: ModuleIdentity;
}

/**
 * A map task whose payload is built when it is about to be submitted: with --ship the payload
 * holds the split's bytes, and only the tasks in flight may hold them, or the driver's memory
 * would grow with the input.
 */
export interface PlannedMapTask {
  unique: string;
  bytes: number;
  /** Reads what the payload needs (the shipped bytes) and returns a builder for it. */
  prepare(): Promise<PayloadBuilder>;
}

/** Deterministic Gearman unique key of a task (at most 63 bytes, gearmand's real limit). */
function taskUnique(runId: string, phase: 'm' | 'r', index: number, step = 0): string {
  return `gmr:${runId}:${phase}${step > 0 ? step + 1 : ''}:${index}`;
}

/** The split's input format, checked here so a job naming a format that does not exist fails before any task runs. */
function inputFormat(definition: LoadedJobDefinition, job: string, path: string, params: Params): InputFormat {
  try {
    return resolveInputFormat(definition.input, path, params);
  } catch (error) {
    throw new JobDefinitionError(`Job ${job}: choosing the input format of ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function readFirstLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const end = buf.subarray(0, bytesRead).indexOf(10);
    const line = buf.toString('utf8', 0, end < 0 ? bytesRead : end);
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  } finally {
    await handle.close();
  }
}

/**
 * Lines before each split's first record, counted in one streaming pass over each file that has
 * several splits. The first record of a split at offset o > 0 starts after the first '\n' at or
 * after o-1, so it is preceded by the '\n's in [0, o-1], plus one more unless byte o-1 is '\n'.
 */
async function lineBases(splits: Split[]): Promise<Map<number, number>> {
  const bases = new Map<number, number>();
  const byPath = new Map<string, Split[]>();
  for (const s of splits) {
    if (s.offset === 0 || s.compressed) bases.set(s.index, 0);
    else byPath.set(s.path, [...(byPath.get(s.path) ?? []), s]);
  }
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const [path, list] of byPath) {
    const handle = await open(path, 'r');
    try {
      let newlines = 0;
      let fileOffset = 0;
      let bytesRead = 0;
      let start = 0; // bytes of buf already counted
      for (const s of [...list].sort((a, b) => a.offset - b.offset)) {
        // Count up to and including byte s.offset - 1.
        for (;;) {
          const stop = Math.min(bytesRead, s.offset - fileOffset);
          for (let i = buf.indexOf(10, start); i >= 0 && i < stop; i = buf.indexOf(10, i + 1)) newlines++;
          start = Math.max(start, stop);
          if (stop < bytesRead || fileOffset + bytesRead >= s.offset) break;
          fileOffset += bytesRead;
          ({ bytesRead } = await handle.read(buf, 0, buf.length, fileOffset));
          start = 0;
          if (bytesRead === 0) break;
        }
        const last = s.offset - 1 - fileOffset;
        bases.set(s.index, newlines + (last >= 0 && last < bytesRead && buf[last] === 10 ? 0 : 1));
      }
    } finally {
      await handle.close();
    }
  }
  return bases;
}

/** The bytes a shipped split carries (see MapTaskHeader.shipped); records where they start. */
async function shippedBytes(split: Split, header: MapTaskHeader): Promise<Buffer> {
  if (split.compressed) {
    header.shipped = { start: 0 };
    return readFile(split.path);
  }
  const { start, end } = await alignSplit(split);
  header.shipped = { start };
  const body = Buffer.alloc(Math.max(0, end - start));
  if (body.length > 0) {
    const handle = await open(split.path, 'r');
    try {
      await handle.read(body, 0, body.length, start);
    } finally {
      await handle.close();
    }
  }
  return body;
}

export async function buildMapTasks(options: {
  runId: string;
  job: string;
  definition: LoadedJobDefinition;
  splits: Split[];
  params: Params;
  partitions: number;
  ship: boolean;
  /** The step (0-based); a later step's splits are the previous step's pair files. */
  step?: number;
  sortValues?: boolean;
  signing: TaskSigning;
  /** A streaming job's commands, for the worker to check against its own. */
  stream?: StreamTaskField;
  logLimit?: number;
}): Promise<PlannedMapTask[]> {
  const { definition, params } = options;
  const step = options.step ?? 0;
  const wantsLines = definition.lineNumbers === true && step === 0;
  const bases = wantsLines ? await lineBases(options.splits) : new Map<number, number>();
  const headers = new Map<string, string>();
  const tasks: PlannedMapTask[] = [];
  for (const split of options.splits) {
    const header: MapTaskHeader = {
      v: WIRE_VERSION,
      unique: taskUnique(options.runId, 'm', split.index, step),
      run: options.runId,
      job: options.job,
      task: split.index,
      partitions: options.partitions,
      params,
      split: { path: split.path, offset: split.offset, length: split.length, compressed: split.compressed },
      ...(split.files ? { splits: split.files.map((f) => ({ path: f.path, offset: 0, length: f.length, compressed: f.compressed })) } : {}),
      ...(step > 0 ? { step } : {}),
      ...(options.sortValues ? { sortValues: true } : {}),
      module: options.signing.module,
      ...(options.stream ? { stream: options.stream } : {}),
      ...(options.logLimit === undefined ? {} : { logLimit: options.logLimit }),
    };
    const base = bases.get(split.index);
    if (base !== undefined && base > 0) header.lineBase = base;
    // A later step reads the previous step's pair files, not the job's input format.
    const format = step === 0 ? inputFormat(definition, options.job, split.path, params) : undefined;
    if (step === 0) for (const file of split.files ?? []) inputFormat(definition, options.job, file.path, params);
    if (split.offset > 0 && !split.compressed && format === 'csv') {
      let line = headers.get(split.path);
      if (line === undefined) {
        line = await readFirstLine(split.path);
        headers.set(split.path, line);
      }
      header.header = line;
    }
    const ship = options.ship;
    tasks.push({
      unique: taskUnique(options.runId, 'm', split.index, step),
      bytes: split.length,
      prepare: async () => {
        const body = ship ? await shippedBytes(split, header) : undefined;
        const { secret } = options.signing;
        return (skip, unique) => encodeTask({ ...header, unique, ...(skip.length > 0 ? { skip } : {}) }, body, secret);
      },
    });
  }
  return tasks;
}

export async function buildReduceTask(options: {
  runId: string;
  job: string;
  partition: number;
  partitions: number;
  params: Params;
  runs: string[];
  ship: boolean;
  step?: number;
  sortValues?: boolean;
  signing: TaskSigning;
  stream?: StreamTaskField;
  logLimit?: number;
}): Promise<PlannedTask> {
  const step = options.step ?? 0;
  const unique = taskUnique(options.runId, 'r', options.partition, step);
  const header: ReduceTaskHeader = {
    v: WIRE_VERSION,
    unique,
    run: options.runId,
    job: options.job,
    task: options.partition,
    partitions: options.partitions,
    params: options.params,
    ...(step > 0 ? { step } : {}),
    ...(options.sortValues ? { sortValues: true } : {}),
    module: options.signing.module,
    ...(options.stream ? { stream: options.stream } : {}),
    ...(options.logLimit === undefined ? {} : { logLimit: options.logLimit }),
  };
  let body: Buffer | undefined;
  let bytes = 0;
  if (options.ship) {
    const contents = await Promise.all(options.runs.map((r) => readFile(r)));
    header.shippedRuns = contents.map((c) => c.length);
    body = Buffer.concat(contents);
    bytes = body.length;
  } else {
    header.runs = options.runs;
    for (const r of options.runs) bytes += (await stat(r)).size;
  }
  const { secret } = options.signing;
  return { unique, payload: (_skip, attemptUnique) => encodeTask({ ...header, unique: attemptUnique }, body, secret), bytes };
}
