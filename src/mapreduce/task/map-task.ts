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
 * A task of several parts (small files grouped, runMapParts) runs each as its own split for the
 * job (setup, state, teardown and `ctx.split` per part) into the one output of the task.
 */

import { TaskError } from '../../errors.ts';
import { CsvSyntaxError, parseCsvLine } from './csv.ts';
import { defaultFormat } from '../job/define-job.ts';
import { resolveInputFormat } from '../job/input-format.ts';
import type { InputFormat, MapContext, Params, RecordLocation, SplitInfo } from '../job/define-job.ts';
import { normalizeJob, stepReduces } from '../job/job-steps.ts';
import { LineChunker, partialLine } from '../shuffle/encoding.ts';
import { encodeKey, encodeValue, partialSink, writePartials, type Group } from './partial-writer.ts';
import { linesIn, type BlockCallback, type ReadResult, type RecordPosition } from './record-reader.ts';
import { messageOf, TaskFailure } from './task-failure.ts';
import { TaskState, type TaskHooks } from './task-state.ts';

export type { TaskHooks } from './task-state.ts';

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
  /** The step this task runs (0-based, default 0); a later step's records are the previous step's pairs. */
  step?: number;
  /** Number of reduce partitions (>= 1); ignored by a map-only step. */
  partitions: number;
  params: Params;
  split: { path: string; offset: number; length: number };
  /** Lines in the file before this split, so ctx.position.line is the line in the file. Default 0. */
  lineBase?: number;
  /** The file's CSV header line, for a split not at offset 0 of a 'csv' input. */
  header?: string;
}

/** One split of a task that holds several (small files grouped into one task), with its records. */
export interface MapPart extends Pick<MapTaskSpec, 'split' | 'lineBase' | 'header'> {
  source: RecordSource | MapSource;
}

export interface MapTaskSummary {
  /** Records handed to map (a CSV header and blank CSV/JSON lines are not records); lines, for mapBytes. */
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

export async function runMapTask(
  job: object,
  spec: MapTaskSpec,
  source: RecordSource | MapSource,
  sink: (partition: number, chunk: Buffer) => void,
  hooks: TaskHooks = {},
): Promise<MapTaskSummary> {
  return runMapParts(job, spec, [{ split: spec.split, lineBase: spec.lineBase, header: spec.header, source }], sink, hooks);
}

/** A map task over its parts in turn (spec's split, lineBase and header are the parts'). */
export async function runMapParts(
  job: object,
  spec: Omit<MapTaskSpec, 'split' | 'lineBase' | 'header'>,
  parts: readonly MapPart[],
  sink: (partition: number, chunk: Buffer) => void,
  hooks: TaskHooks = {},
): Promise<MapTaskSummary> {
  const definition = normalizeJob(job, spec.job);
  const stepIndex = spec.step ?? 0;
  const step = definition.steps[stepIndex];
  if (step === undefined) {
    throw new TaskError(`${spec.job} map task ${spec.index}: expected a step in 1..${definition.steps.length}, received step ${stepIndex + 1}`);
  }
  const lastStep = stepIndex === definition.steps.length - 1;
  // The part being read: its split (as ctx.split shows it), line base and failure prefix.
  let split: SplitInfo = { path: '', offset: 0, length: 0 };
  let lineBase = 0;
  let where = '';
  const stepName = definition.steps.length > 1 ? ` step ${stepIndex + 1}` : '';
  const state = new TaskState(hooks);
  const reduces = stepReduces(step);
  const partitions = reduces ? spec.partitions : 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new TaskError(`${spec.job} map task ${spec.index}: expected partitions to be an integer >= 1, received ${partitions}`);
  }

  let records = 0;
  let emitted = 0;
  let line = 0;
  let recordOffset = 0;
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

  // Output: without reduce, lines go to "partition" 0 as they are emitted (formatted in the last
  // step, as pair records before a later step); with reduce, pairs are grouped per key.
  const chunkers: LineChunker[] = [];
  for (let p = 0; p < partitions; p++) chunkers.push(new LineChunker((chunk) => sink(p, chunk)));
  const partitionRecords = new Array<number>(partitions).fill(0);
  const stringGroups = new Map<string, { value: unknown }>();
  const stringLists = new Map<string, unknown[]>();
  const otherGroups = new Map<string, Group<unknown, unknown>>();

  let emit: (key: unknown, value?: unknown) => void;
  const combine = step.combine;
  if (!reduces) {
    const out = chunkers[0] as LineChunker;
    if (lastStep) {
      const format = definition.format ?? defaultFormat;
      emit = (key, value) => {
        emitted++;
        out.write(`${format(key, value)}\n`);
        partitionRecords[0]!++;
      };
    } else {
      emit = (key, value) => {
        emitted++;
        out.write(partialLine(encodeKey(key), encodeValue(value)));
        partitionRecords[0]!++;
      };
    }
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
      else group.values[0] = combine(group.values[0], value, key);
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

  // A job that combines in its own table may write its partial records itself (MapContext.partials).
  let wroteLines = false;
  const ownPartials = reduces && step.partition === undefined && step.sortValues !== true;
  const partials = ownPartials ? partialSink(chunkers, partitionRecords, () => (wroteLines = true)) : undefined;
  const ctx: MapContext<unknown, unknown> = {
    params: spec.params,
    task: { job: spec.job, phase: 'map', index: spec.index, step: stepIndex, steps: definition.steps.length },
    get split(): SplitInfo {
      return split; // the part's
    },
    taskBytes: parts.reduce((n, part) => n + part.split.length, 0),
    emit,
    ...(partials === undefined ? {} : { partials }),
    count: (name: string, amount?: number) => state.count(name, amount),
    status: (message: string) => state.setStatus(message),
    get position(): RecordLocation {
      return { path: split.path, line: lineBase + line, offset: recordOffset };
    },
  };

  let taskState: unknown;
  const map: (record: unknown) => void =
    step.map !== undefined
      ? ((fn) => (record: unknown) => fn(record, ctx, taskState))(step.map)
      : stepIndex === 0
        ? (record) => emit(null, record)
        : (record) => emit((record as [unknown, unknown])[0], (record as [unknown, unknown])[1]);
  let bytesRead = 0;
  const perTask = step.mapHooks === 'per-task'; // the hooks below once around all of the task's files
  for (const part of parts) {
    split = { path: part.split.path, offset: part.split.offset, length: part.split.length };
    lineBase = part.lineBase ?? 0;
    recordOffset = split.offset;
    where = `${spec.job}${stepName} map task ${spec.index} failed on ${split.path}@${split.offset}+${split.length}`;
    let inputFormat: RecordFormat;
    try {
      inputFormat = stepIndex > 0 ? 'pairs' : resolveInputFormat(definition.input, split.path, spec.params);
      if (inputFormat !== 'lines' && inputFormat !== 'pairs' && typeof step.map !== 'function') {
        throw new Error(`expected a map function for ${inputFormat} input (mapBytes reads 'lines' input only)`);
      }
    } catch (err) {
      throw fail(err, ' choosing the input format', false);
    }
    const mapBytes = inputFormat === 'lines' ? step.mapBytes : undefined;
    const onBlock: BlockCallback = (bytes, start, end, offset) => {
      if (failure !== undefined) return;
      line = 0;
      recordOffset = offset;
      records += linesIn(bytes, start, end);
      try {
        (mapBytes as NonNullable<typeof mapBytes>)(bytes, start, end, ctx, taskState);
      } catch (err) {
        throw fail(err, ` in mapBytes, block at byte ${offset}`, false);
      }
    };
    const onRecord = makeRecordHandler(inputFormat, part, (text, pos, parse) => {
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
        map(record);
      } catch (err) {
        throw fail(err, '', true);
      }
    });
    try {
      if (!perTask || part === parts[0]) await step.setup?.(ctx);
      if (!perTask || part === parts[0]) taskState = step.mapSetup === undefined ? undefined : await step.mapSetup(ctx);
    } catch (err) {
      throw fail(err, ' in setup', false);
    }
    const before = bytesRead; // progress counts the parts before this one too
    const onProgress = hooks.onProgress && ((done: number) => hooks.onProgress?.(before + done));
    try {
      const sources = typeof part.source === 'function' ? { lines: part.source } : part.source;
      const read = mapBytes === undefined ? await sources.lines(onRecord, onProgress) : await (sources.blocks ?? linesAsBlocks(sources.lines))(onBlock, onProgress);
      bytesRead += read.bytes;
    } catch (err) {
      throw failure ?? err;
    }
    if (failure !== undefined) throw failure;
    try {
      if (!perTask || part === parts.at(-1)) await step.mapTeardown?.(ctx, taskState);
      if (!perTask || part === parts.at(-1)) await step.teardown?.(ctx);
    } catch (err) {
      throw fail(err, ' in teardown', false);
    }
  }

  if (wroteLines && emitted > 0) throw fail(new TaskError(`expected a task that writes ctx.partials to emit nothing, but it emitted ${emitted} pair${emitted === 1 ? '' : 's'}`), '', false);
  if (reduces && !wroteLines) {
    writePartials(
      { combined: stringGroups, lists: stringLists, other: otherGroups },
      { partitions, partition: step.partition, chunkers, partitionRecords, sortValues: step.sortValues === true },
      (err, context) => fail(err, context, false),
    );
  }
  for (const c of chunkers) c.flush();

  const summary: MapTaskSummary = {
    records,
    emitted,
    bytesRead,
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

/** The input formats, plus 'pairs': the `encodedKey TAB encodedValue` records of a previous step. */
type RecordFormat = InputFormat | 'pairs';

function makeRecordHandler(
  format: RecordFormat,
  spec: Pick<MapTaskSpec, 'split' | 'header'>,
  handle: (text: string, pos: RecordPosition, parse: Parse) => void,
): (text: string, pos: RecordPosition) => void {
  switch (format) {
    case 'lines': {
      const identity: Parse = (text) => text;
      return (text, pos) => handle(text, pos, identity);
    }
    case 'pairs': {
      const parse: Parse = (text) => {
        const tab = text.indexOf('\t');
        try {
          if (tab <= 0) throw new Error('no TAB');
          return [JSON.parse(text.slice(0, tab)) as unknown, JSON.parse(text.slice(tab + 1)) as unknown];
        } catch (err) {
          throw new Error(`expected a pair record <json>\t<json> from the previous step, received ${JSON.stringify(text.slice(0, 80))} (${messageOf(err)})`);
        }
      };
      return (text, pos) => handle(text, pos, parse);
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
