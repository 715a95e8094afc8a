/**
 * The job-module API: what a user writes in `export default defineJob({...})`.
 *
 * Type parameters flow from `map` to `combine` to `reduce` to `format`:
 * - `Rec` — the record handed to `map` (a line string for input 'lines', `Record<string, string>`
 *   for 'csv', the `JSON.parse`d value for 'json').
 * - `K`, `V` — what `map` emits with `ctx.emit(key, value)`; both must survive `JSON.stringify`
 *   (see encoding.ts: the shuffle carries them as JSON).
 * - `Out` — what `reduce` returns for a key; a map-only job (no `reduce`) formats its emitted
 *   values directly, so there `Out` is `V`.
 *
 * Function members are declared as properties, not methods, so TypeScript checks their parameters
 * strictly (contravariantly): a `combine` whose types do not fit `map`'s `emit` is a compile error.
 * Object-literal method shorthand is still fine in a job module.
 */

import type { Params, ParamSpec } from './params.ts';

export type { Params, ParamSpec, ParamType, ParamValue } from './params.ts';

/**
 * - `'lines'` (default): one record per line, the line string without '\n' (and without a '\r' before it).
 * - `'csv'`: the first line of each file is the header; each further line is one record, a
 *   `Record<string, string>` from header names to fields (RFC 4180 quoting within one line).
 * - `'json'`: each non-empty line is `JSON.parse`d into one record (JSON lines); the record type is `unknown`.
 */
export type InputFormat = 'lines' | 'csv' | 'json';

export interface TaskInfo {
  /** The job's name, as the driver loaded it (`wordcount`, `./jobs/top.ts`). */
  readonly job: string;
  readonly phase: 'map' | 'reduce';
  /** The task number within its phase (for reduce: the partition). */
  readonly index: number;
}

/**
 * What every hook receives. One task passes the same context object to `setup`, to every `map`
 * (or `reduce`) call and to `teardown`, so per-task state can live in a `WeakMap` keyed by `ctx`
 * (module-level variables would be shared by tasks that one worker process runs concurrently).
 */
export interface TaskContext {
  readonly params: Params;
  /** Adds `amount` (default 1) to the named counter; the driver sums counters across tasks. */
  count(name: string, amount?: number): void;
  /** Sets the task's status message (the latest one wins; reported to the driver). */
  status(message: string): void;
  readonly task: TaskInfo;
}

export interface SplitInfo {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

export interface RecordLocation {
  readonly path: string;
  /** 1-based line of the current record: the task's lineBase + its line within the split. */
  readonly line: number;
  /** Absolute byte offset of the current record's first byte in the file. */
  readonly offset: number;
}

export interface MapContext<K, V> extends TaskContext {
  /**
   * Emits one (key, value) pair. With `combine`, values for an equal key are combined right away,
   * so the task holds one V per distinct key. `emit` is an own property: `const { emit } = ctx` works.
   */
  readonly emit: (key: K, value: V) => void;
  readonly split: SplitInfo;
  /** Where the current record is (a fresh object per access: read it only when needed). */
  readonly position: RecordLocation;
}

export interface ReduceContext extends TaskContext {}

export interface JobDefinition<Rec = string, K = string, V = unknown, Out = V> {
  description?: string;
  /**
   * Set when map reads `ctx.position.line` for its output (grep does): the driver then counts the
   * lines before every split so that line numbers are the file's. Otherwise `position.line` is
   * the line within the split for splits not at offset 0 (failure reports still name file lines).
   */
  lineNumbers?: boolean;
  /** Input format, or a function choosing it per file (e.g. by extension). Default 'lines'. */
  input?: InputFormat | ((path: string, params: Params) => InputFormat);
  /**
   * The `--param` names this job accepts. When present it is the complete list (unknown names
   * are a usage error); when absent, any params are passed through unchecked.
   */
  params?: Readonly<Record<string, ParamSpec>>;
  /** Once per task, before the first record (map) or key (reduce). A map task may already emit. */
  setup?: (ctx: MapContext<K, V> | ReduceContext) => void | Promise<void>;
  /**
   * Called once per record; synchronous on purpose, it is the hot path. Required unless the job
   * has `mapBytes`; a job may have both (`mapBytes` then serves 'lines' input, `map` the others).
   */
  map?: (record: Rec, ctx: MapContext<K, V>) => void;
  /**
   * The byte-level map, for jobs that need speed: instead of one string per line, it receives
   * the split's lines as byte ranges of a Buffer, `bytes[start, end)`, many lines per call (about
   * 1 MiB). Each line ends at a '\n' or at `end`: a block always ends at a line end, a file's last
   * line may lack its '\n', and a '\r' before a '\n' is kept. The bytes are the file's (or the
   * decompressed file's), not validated as UTF-8. The Buffer is reused after the call returns:
   * copy what you keep. Only for 'lines' input; `ctx.position.offset` is the absolute file offset
   * of `bytes[start]` and `position.line` is 0 (lines are not counted), the task summary's
   * `records` counts calls, and `--max-bad-records` does not apply (a throw fails the task).
   */
  mapBytes?: (bytes: Buffer, start: number, end: number, ctx: MapContext<K, V>) => void;
  /**
   * Binary, associative and commutative (Spark's reduceByKey style). Applied eagerly in the
   * mapper at emit time, so a map task holds one V per distinct key. May run 0..n times per key:
   * a job must give the same result with or without it.
   */
  combine?: (a: V, b: V, key: K) => V;
  /**
   * Called once per distinct key with all its values (in no specified order across map tasks).
   * Returning `undefined` writes no output line. Absent: a map-only job, whose emitted pairs are
   * formatted straight into the output in record order.
   */
  reduce?: (key: K, values: V[], ctx: ReduceContext) => Out | undefined;
  /** Once per task, after the last record or key. A map task may still emit (`'emit' in ctx`). */
  teardown?: (ctx: MapContext<K, V> | ReduceContext) => void | Promise<void>;
  /**
   * Picks the reduce partition of a key, an integer in [0, partitions). Default: FNV-1a 32-bit of
   * the UTF-8 bytes of `encodedKey` modulo `partitions` (see encoding.ts).
   */
  partition?: (key: K, encodedKey: string, partitions: number) => number;
  /**
   * One output line without '\n'. Default: the key (a string as-is, anything else as JSON), a TAB,
   * then the output (a string as-is, anything else as JSON).
   */
  format?: (key: K, out: Out) => string;
}

/**
 * The identity function; it exists for its types. With explicit type arguments
 * (`defineJob<string, string, number>({...})`) or annotated parameters, TypeScript checks that
 * `combine`, `reduce` and `format` fit what `map` emits.
 */
export function defineJob<Rec = string, K = string, V = unknown, Out = V>(
  def: JobDefinition<Rec, K, V, Out>,
): JobDefinition<Rec, K, V, Out> {
  return def;
}

/** A job definition whose types are not known statically (a module loaded at run time). */
export type LoadedJobDefinition = JobDefinition<unknown, unknown, unknown, unknown>;

/** The default `format`: string keys and outputs as-is, anything else as JSON, joined by a TAB. */
export function defaultFormat(key: unknown, out: unknown): string {
  const k = typeof key === 'string' ? key : JSON.stringify(key);
  const o = typeof out === 'string' ? out : JSON.stringify(out);
  return `${k}\t${o}`;
}
