/**
 * A streaming map task: the split's lines (the bytes it owns, as record-reader.ts's rule decides)
 * piped into the mapper command; its stdout lines are `key SEP value` (the first `keyFields`
 * fields are the key; a line without SEP is a key with an empty value). Map-only: the lines are
 * the output as they are. With a reducer: the pairs are grouped by key, optionally run through
 * the combiner (fed sorted, grouped lines), and written as partials like any map task's
 * (string keys and values as JSON strings, partitioned and sorted by encoding.ts's rules).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { StreamingSpec } from '../job/streaming-job.ts';
import { compareUtf8, LineChunker, partitionOf } from '../shuffle/encoding.ts';
import { InputError } from '../../errors.ts';
import { alignSplit, openInput, readError, type InputFile } from '../shuffle/split.ts';
import type { MapTaskHeader } from '../shuffle/task-protocol.ts';
import type { MapTaskSummary } from './map-task.ts';
import { bufferChunks, runCommand, type CommandOptions } from './streaming-child.ts';
import type { TaskState } from './task-state.ts';

const LF = 0x0a;

/** What every command of one task shares. */
export interface CommandSetting {
  spec: StreamingSpec;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  maxLineBytes: number;
  idleMs?: number;
  signal?: AbortSignal;
  state: TaskState;
  onLog?: (line: string) => void;
  onSpawn?: (pid: number) => void;
}

export interface MapSinks {
  partial(partition: number, chunk: Buffer): void;
  /** Output lines of a map-only task; the promise holds the mapper's stdout back until sent. */
  output(chunk: Buffer): Promise<void>;
  progress(bytesDone: number, total: number): void;
}

/** Key and value of one line: the key is the first `keyFields` fields. */
export function splitPair(line: string, separator: string, keyFields: number): [string, string] {
  let at = -1;
  for (let i = 0; i < keyFields; i++) {
    at = line.indexOf(separator, at < 0 ? 0 : at + separator.length);
    if (at < 0) return [line, ''];
  }
  return [line.slice(0, at), line.slice(at + separator.length)];
}

/** The line a command reads for a pair (the key alone when the value is empty). */
export function pairLine(key: string, value: string, separator: string): string {
  return value === '' ? `${key}\n` : `${key}${separator}${value}\n`;
}

/** Where a map task's input comes from: the worker's input roots, and how far a .gz may inflate. */
export interface InputAccess {
  openInput?: (path: string) => Promise<InputFile>;
  maxInflatedBytes?: number;
}

/** The split's bytes (only the lines it owns), decompressed, ending with '\n'. */
async function splitBytes(header: MapTaskHeader, body: Buffer, access: InputAccess): Promise<AsyncIterable<Buffer>> {
  const { split } = header;
  const open = access.openInput ?? openInput;
  let source: AsyncIterable<Buffer>;
  if (header.shipped) {
    source = split.compressed ? inflated(bufferChunks(body), split.path, access) : bufferChunks(body);
  } else if (split.compressed) {
    source = inflated((await open(split.path)).createReadStream({ highWaterMark: 1 << 20 }), split.path, access);
  } else {
    const { start, end } = await alignSplit({ ...split, index: header.task, fileSize: split.offset + split.length }, open);
    source = end > start ? (await open(split.path)).createReadStream({ start, end: end - 1, highWaterMark: 1 << 20 }) : Readable.from([]);
  }
  return withFinalNewline(source);
}

/** A .gz stream inflated, failing past maxInflatedBytes (a small file may inflate to terabytes). */
async function* inflated(compressed: Readable, path: string, access: InputAccess): AsyncGenerator<Buffer> {
  const limit = access.maxInflatedBytes ?? Infinity;
  const gunzip = createGunzip();
  compressed.on('error', (error) => gunzip.destroy(error));
  compressed.pipe(gunzip);
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) throw new InputError(`Input ${path} inflates past ${limit} bytes (--max-inflated-size); refused`);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw readError(path, error);
  } finally {
    gunzip.destroy();
    compressed.destroy();
  }
}

async function* withFinalNewline(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let last = LF;
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    last = chunk[chunk.length - 1] as number;
    yield chunk;
  }
  if (last !== LF) yield Buffer.from('\n');
}

function lines(count: { n: number }): (chunk: Buffer) => void {
  return (chunk) => {
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) count.n++;
  };
}

/**
 * The pairs as partial lines (encoding.ts): each key's JSON string, partitioned by its FNV-1a hash,
 * keys in natural order, which for strings is their UTF-8 byte order (compareUtf8 on the strings
 * themselves, so no JSON is parsed back), values in the order the command wrote them.
 */
function writeStringPartials(groups: Map<string, string[]>, chunkers: LineChunker[], partitionRecords: number[]): void {
  const byPartition: string[][] = chunkers.map(() => []);
  for (const key of groups.keys()) (byPartition[partitionOf(JSON.stringify(key), chunkers.length)] as string[]).push(key);
  byPartition.forEach((keys, p) => {
    keys.sort(compareUtf8);
    const out = chunkers[p] as LineChunker;
    for (const key of keys) {
      const enc = JSON.stringify(key);
      const values = groups.get(key) as string[];
      for (const value of values) out.write(`${enc}\t${JSON.stringify(value)}\n`);
      (partitionRecords[p] as number) += values.length;
    }
  });
  groups.clear();
}

/** Every pair of `groups`, keys in natural (UTF-8 byte) order, as the lines a combiner reads. */
async function* sortedLines(groups: Map<string, string[]>, separator: string): AsyncGenerator<Buffer> {
  const keys = [...groups.keys()].sort(compareUtf8);
  let batch = '';
  for (const key of keys) {
    for (const value of groups.get(key) as string[]) {
      batch += pairLine(key, value, separator);
      if (batch.length >= 64 * 1024) {
        yield Buffer.from(batch);
        batch = '';
      }
    }
  }
  if (batch !== '') yield Buffer.from(batch);
}

/** The options of one of the task's commands. */
export function commandOptions(setting: CommandSetting, role: CommandOptions['role'], words: string[], rest: Pick<CommandOptions, 'input' | 'onLine' | 'onInput'>): CommandOptions {
  return {
    role,
    command: words,
    env: setting.env,
    ...(setting.cwd === undefined ? {} : { cwd: setting.cwd }),
    state: setting.state,
    maxLineBytes: setting.maxLineBytes,
    ...(setting.idleMs === undefined ? {} : { idleMs: setting.idleMs }),
    ...(setting.signal === undefined ? {} : { signal: setting.signal }),
    ...(setting.onLog === undefined ? {} : { onLog: setting.onLog }),
    ...(setting.onSpawn === undefined ? {} : { onSpawn: setting.onSpawn }),
    ...rest,
  };
}

export async function runStreamingMap(setting: CommandSetting, header: MapTaskHeader, body: Buffer, sinks: MapSinks, access: InputAccess = {}): Promise<MapTaskSummary> {
  const { spec } = setting;
  const total = header.split.length;
  const reduces = spec.reducer !== undefined;
  const partitions = reduces ? header.partitions : 1;
  const chunkers: LineChunker[] = [];
  let sending: Promise<void> | undefined;
  for (let p = 0; p < partitions; p++) {
    chunkers.push(
      new LineChunker((chunk) => {
        if (reduces) return sinks.partial(p, chunk);
        const sent = sinks.output(chunk);
        sending = sending === undefined ? sent : Promise.all([sending, sent]).then(() => {});
      }),
    );
  }
  const partitionRecords = new Array<number>(partitions).fill(0);
  const records = { n: 0 };
  const countLines = lines(records);
  let emitted = 0;
  let groups = new Map<string, string[]>();
  const group = (line: string): void => {
    const [key, value] = splitPair(line, spec.separator, spec.keyFields);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [value]);
    else list.push(value);
  };
  const out = chunkers[0] as LineChunker;
  // A mapper that computes after reading (or a combiner) still tells the driver it is alive, so
  // its --task-timeout clock restarts while output comes: at most one WORK_STATUS a second.
  let reported = -1;
  let beat = Date.now();
  const heartbeat = (): void => {
    if ((emitted & 1023) !== 0 || Date.now() - beat < 1000) return;
    beat = Date.now();
    sinks.progress(Math.max(0, reported), total);
  };
  const onLine = reduces
    ? (line: string): undefined => {
        emitted++;
        group(line);
        heartbeat();
      }
    : (line: string): Promise<void> | undefined => {
        emitted++;
        partitionRecords[0]!++;
        out.write(`${line}\n`);
        const pending = sending;
        sending = undefined;
        return pending;
      };

  const input = (async function* () {
    for await (const chunk of await splitBytes(header, body, access)) {
      countLines(chunk);
      yield chunk;
    }
  })();
  await runCommand(
    commandOptions(setting, 'mapper', spec.mapper, {
      input,
      onLine,
      onInput: (taken) => {
        const done = Math.min(taken, total);
        if (done - reported >= 256 * 1024) {
          reported = done;
          beat = Date.now();
          sinks.progress(done, total);
        }
      },
    }),
  );
  if (spec.combiner !== undefined && groups.size > 0) {
    const combining = groups;
    groups = new Map();
    await runCommand(
      commandOptions(setting, 'combiner', spec.combiner, {
        input: sortedLines(combining, spec.separator),
        onLine: (line) => {
          group(line);
          if (Date.now() - beat >= 1000) {
            beat = Date.now();
            sinks.progress(Math.max(0, reported), total);
          }
        },
      }),
    );
  }
  if (reduces) writeStringPartials(groups, chunkers, partitionRecords);
  for (const c of chunkers) c.flush();
  if (sending !== undefined) await sending;
  sinks.progress(total, total);
  const summary: MapTaskSummary = {
    records: records.n,
    emitted,
    bytesRead: total,
    counters: setting.state.counterRecord(),
    partitionRecords,
    partitionBytes: chunkers.map((c) => c.bytes),
  };
  if (setting.state.status !== undefined) summary.status = setting.state.status;
  return summary;
}
