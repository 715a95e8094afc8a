/**
 * The map task runtime: runs a job's `map` over the records of one split and produces its
 * partials, partitioned and sorted as encoding.ts specifies. Pure Node: the worker decides where
 * records come from (`RecordSource`) and where chunks go (`sink`).
 *
 * With `reduce`: emitted pairs are grouped in memory per distinct key — combined right away when
 * the job has `combine` (one V per key), else kept as arrays — and only at the end encoded,
 * partitioned, sorted by compareUtf8 and written as partial lines in ~1 MiB chunks. String keys
 * are grouped in a Map<string, V> as they are, without JSON-encoding per emit.
 * Without `reduce` (map-only): every emit is formatted into one output line right away, in record
 * order, and sent to partition 0; `partitions` is ignored.
 */

import { TaskError } from '../../errors.ts';
import { CsvSyntaxError, parseCsvLine } from './csv.ts';
import { defaultFormat } from '../job/define-job.ts';
import { resolveInputFormat } from '../job/input-format.ts';
import type { InputFormat, JobDefinition, MapContext, Params, RecordLocation } from '../job/define-job.ts';
import { encodeJson, LineChunker } from '../shuffle/encoding.ts';
import { writePartials, type Group } from './partial-writer.ts';
import type { BlockCallback, ReadResult, RecordPosition } from './record-reader.ts';
import { messageOf, TaskFailure } from './task-failure.ts';

/**
 * Feeds the records of a split to `onRecord`, one line each (without '\n'), and resolves when the
 * split is done. If `onRecord` throws, the source must stop and reject (record-reader.ts's
 * readSplit does); runMapTask also remembers the failure and ignores later records, so the
 * failure is reported even by a source that swallowed it.
 */
export type RecordSource = (
  onRecord: (line: string, pos: RecordPosition) => void,
  onProgress?: (bytesDone: number) => void,
) => Promise<ReadResult>;

/** The same split as byte ranges of whole lines, for a job's `mapBytes` (see BlockCallback). */
export type BlockSource = (onBlock: BlockCallback, onProgress?: (bytesDone: number) => void) => Promise<ReadResult>;

/** A split both ways; without `blocks`, a `mapBytes` job gets each line as its own block. */
export interface MapSource {
  lines: RecordSource;
  blocks?: BlockSource;
}

export interface MapTaskSpec {
  job: string;
  index: number;
  /** Number of reduce partitions (>= 1); ignored by a map-only job. */
  partitions: number;
  params: Params;
  split: { path: string; offset: number; length: number };
  /** Lines in the file before this split, so ctx.position.line is the line in the file. Default 0. */
  lineBase?: number;
  /** The file's CSV header line, for a split not at offset 0 of a 'csv' input. */
  header?: string;
}

export interface MapTaskSummary {
  /** Records handed to map (a CSV header and blank CSV/JSON lines are not records). */
  records: number;
  emitted: number;
  bytesRead: number;
  counters: Record<string, number>;
  /** Lines written per partition (a map-only job has one partition: its output). */
  partitionRecords: number[];
  partitionBytes: number[];
  /** The last message passed to ctx.status. */
  status?: string;
}

export interface TaskHooks {
  onProgress?(bytesDone: number): void;
  onStatus?(message: string): void;
}

/** Counters, status and the failure message prefix shared by the map and reduce runtimes. */
export class TaskState {
  readonly counters = new Map<string, number>();
  status: string | undefined;

  constructor(private readonly hooks: TaskHooks) {}

  count(name: string, amount = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + amount);
  }

  setStatus(message: string): void {
    this.status = message;
    this.hooks.onStatus?.(message);
  }

  counterRecord(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }
}

export async function runMapTask<Rec, K, V, Out>(
  job: JobDefinition<Rec, K, V, Out>,
  spec: MapTaskSpec,
  source: RecordSource | MapSource,
  sink: (partition: number, chunk: Buffer) => void,
  hooks: TaskHooks = {},
): Promise<MapTaskSummary> {
  if (typeof job.map !== 'function' && typeof job.mapBytes !== 'function') {
    throw new TaskError(`${spec.job}: expected a job definition with a map or mapBytes function`);
  }
  const { split } = spec;
  const where = `${spec.job} map task ${spec.index} failed on ${split.path}@${split.offset}+${split.length}`;
  const lineBase = spec.lineBase ?? 0;
  const state = new TaskState(hooks);
  const reduces = typeof job.reduce === 'function';
  const partitions = reduces ? spec.partitions : 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new TaskError(`${spec.job} map task ${spec.index}: expected partitions to be an integer >= 1, received ${partitions}`);
  }

  let records = 0;
  let emitted = 0;
  let line = 0;
  let recordOffset = split.offset;
  let failure: TaskFailure | undefined;

  const fail = (err: unknown, context: string, atRecord: boolean): TaskFailure => {
    const f = new TaskFailure(
      `${where}${atRecord ? `, line ${lineBase + line} (byte ${recordOffset})` : ''}${context}: ${messageOf(err)}`,
      {
        job: spec.job,
        phase: 'map',
        index: spec.index,
        path: split.path,
        offset: split.offset,
        length: split.length,
        ...(atRecord ? { line: lineBase + line, recordOffset } : {}),
      },
      { cause: err },
    );
    failure ??= f;
    return f;
  };

  // Output: map-only jobs write formatted lines to "partition" 0 as they go; others group.
  const chunkers: LineChunker[] = [];
  for (let p = 0; p < partitions; p++) chunkers.push(new LineChunker((chunk) => sink(p, chunk)));
  const partitionRecords = new Array<number>(partitions).fill(0);
  const stringGroups = new Map<string, { value: V }>();
  const stringLists = new Map<string, V[]>();
  const otherGroups = new Map<string, Group<K, V>>();

  const encodeKey = (key: K): string => {
    const enc = encodeJson(key);
    if (enc === undefined) throw new TaskError(`expected a JSON-encodable key, received ${String(key)}`);
    return enc;
  };

  let emit: (key: K, value: V) => void;
  const combine = job.combine;
  if (!reduces) {
    // A map-only job formats what it emits: there Out is V.
    const format = (job.format as ((key: K, out: unknown) => string) | undefined) ?? defaultFormat;
    const out = chunkers[0] as LineChunker;
    emit = (key, value) => {
      emitted++;
      out.write(`${format(key, value)}\n`);
      partitionRecords[0]!++;
    };
  } else if (combine !== undefined) {
    emit = (key, value) => {
      emitted++;
      if (typeof key === 'string') {
        // A mutable box per key: one hash lookup per emit instead of get + set.
        const box = stringGroups.get(key);
        if (box === undefined) stringGroups.set(key, { value });
        else box.value = combine(box.value, value, key);
        return;
      }
      const enc = encodeKey(key);
      const group = otherGroups.get(enc);
      if (group === undefined) otherGroups.set(enc, { key, values: [value] });
      else group.values[0] = combine(group.values[0] as V, value, key);
    };
  } else {
    emit = (key, value) => {
      emitted++;
      if (typeof key === 'string') {
        const list = stringLists.get(key);
        if (list === undefined) stringLists.set(key, [value]);
        else list.push(value);
        return;
      }
      const enc = encodeKey(key);
      const group = otherGroups.get(enc);
      if (group === undefined) otherGroups.set(enc, { key, values: [value] });
      else group.values.push(value);
    };
  }

  const ctx: MapContext<K, V> = {
    params: spec.params,
    task: { job: spec.job, phase: 'map', index: spec.index },
    split: { path: split.path, offset: split.offset, length: split.length },
    emit,
    count: (name: string, amount?: number) => state.count(name, amount),
    status: (message: string) => state.setStatus(message),
    get position(): RecordLocation {
      return { path: split.path, line: lineBase + line, offset: recordOffset };
    },
  };

  let inputFormat: InputFormat;
  try {
    inputFormat = resolveInputFormat(job.input, split.path, spec.params);
    if (inputFormat !== 'lines' && typeof job.map !== 'function') {
      throw new Error(`expected a map function for ${inputFormat} input (mapBytes reads 'lines' input only)`);
    }
  } catch (err) {
    throw fail(err, ' choosing the input format', false);
  }
  const mapBytes = inputFormat === 'lines' ? job.mapBytes : undefined;
  const map = job.map as (record: unknown, ctx: MapContext<K, V>) => void;
  const onBlock: BlockCallback = (bytes, start, end, offset) => {
    if (failure !== undefined) return;
    line = 0;
    recordOffset = offset;
    records++;
    try {
      (mapBytes as NonNullable<typeof mapBytes>)(bytes, start, end, ctx);
    } catch (err) {
      throw fail(err, ` in mapBytes, block at byte ${offset}`, false);
    }
  };
  const onRecord = makeRecordHandler(inputFormat, spec, (text, pos, parse) => {
    if (failure !== undefined) return;
    line = pos.line;
    recordOffset = pos.offset;
    let record: unknown;
    try {
      record = parse(text);
    } catch (err) {
      throw fail(err, '', true);
    }
    if (record === SKIP) return;
    records++;
    try {
      map(record, ctx);
    } catch (err) {
      throw fail(err, '', true);
    }
  });

  try {
    await job.setup?.(ctx);
  } catch (err) {
    throw fail(err, ' in setup', false);
  }
  let read: ReadResult;
  try {
    const sources = typeof source === 'function' ? { lines: source } : source;
    if (mapBytes === undefined) read = await sources.lines(onRecord, hooks.onProgress);
    else read = await (sources.blocks ?? linesAsBlocks(sources.lines))(onBlock, hooks.onProgress);
  } catch (err) {
    throw failure ?? err;
  }
  if (failure !== undefined) throw failure;
  try {
    await job.teardown?.(ctx);
  } catch (err) {
    throw fail(err, ' in teardown', false);
  }

  if (reduces) {
    writePartials(
      { combined: stringGroups, lists: stringLists, other: otherGroups },
      { partitions, partition: job.partition, chunkers, partitionRecords },
      (err, context) => fail(err, context, false),
    );
  }
  for (const c of chunkers) c.flush();

  const summary: MapTaskSummary = {
    records,
    emitted,
    bytesRead: read.bytes,
    counters: state.counterRecord(),
    partitionRecords,
    partitionBytes: chunkers.map((c) => c.bytes),
  };
  if (state.status !== undefined) summary.status = state.status;
  return summary;
}

/** A block source from a line source: each line (re-encoded, with its '\n') as its own block. */
function linesAsBlocks(lines: RecordSource): BlockSource {
  return (onBlock, onProgress) =>
    lines((text, pos) => {
      const bytes = Buffer.from(`${text}\n`, 'utf8');
      onBlock(bytes, 0, bytes.length, pos.offset);
    }, onProgress);
}

/** Returned by a parser for a line that is not a record (CSV header, blank line). */
const SKIP: unique symbol = Symbol('skip');

type Parse = (text: string) => unknown;

function makeRecordHandler(
  format: InputFormat,
  spec: MapTaskSpec,
  handle: (text: string, pos: RecordPosition, parse: Parse) => void,
): (text: string, pos: RecordPosition) => void {
  switch (format) {
    case 'lines': {
      const identity: Parse = (text) => text;
      return (text, pos) => handle(text, pos, identity);
    }
    case 'json': {
      const parse: Parse = (text) => {
        if (text.trim() === '') return SKIP;
        try {
          return JSON.parse(text) as unknown;
        } catch (err) {
          throw new Error(`expected a JSON value, received ${JSON.stringify(text.slice(0, 80))} (${messageOf(err)})`);
        }
      };
      return (text, pos) => handle(text, pos, parse);
    }
    case 'csv': {
      // The first line of a split at offset 0 is always the header (even when spec.header is given).
      let header = spec.header === undefined ? undefined : parseCsvLine(stripBom(spec.header));
      let atFileStart = spec.split.offset === 0;
      const parse: Parse = (text) => {
        if (atFileStart) {
          atFileStart = false;
          header ??= parseCsvLine(stripBom(text));
          return SKIP;
        }
        if (header === undefined) {
          throw new Error(`csv input: expected the header line in the task spec for a split at offset ${spec.split.offset}, received none`);
        }
        if (text === '') return SKIP;
        const fields = parseCsvLine(text);
        if (fields.length !== header.length) {
          throw new CsvSyntaxError(`csv: expected ${header.length} fields (as in the header), received ${fields.length}`);
        }
        const record = Object.create(null) as Record<string, string>;
        for (let i = 0; i < fields.length; i++) record[header[i] as string] = fields[i] as string;
        return record;
      };
      return (text, pos) => handle(text, pos, parse);
    }
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
