/**
 * The job-module API: what a user writes in `export default defineJob({...})`.
 *
 * A job is one step written as one object (`map`, `combine`, `reduce`, … next to the job's
 * settings), or `steps: [...]`; types flow from `map` to `combine` to `reduce` to `format`, and
 * from each step's output pairs to the next step's `map` (see StepDefinition).
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
  /** The step this task belongs to (0-based) and the job's number of steps. */
  readonly step: number;
  readonly steps: number;
  /** The task number within its phase (for reduce: the partition). */
  readonly index: number;
}

/**
 * What every hook receives. One task passes the same context object to its setup, to every `map`
 * (or `reduce`) call and to its teardown. Per-task state belongs in what `mapSetup` /
 * `reduceSetup` return (handed to every call of the task), not in module-level variables: one
 * worker process may run several tasks at once.
 */
export interface TaskContext {
  readonly params: Params;
  /** Adds `amount` (default 1) to the named counter; the driver sums counters across tasks. */
  count(name: string, amount?: number): void;
  /** Sets the task's status message (the latest one wins; reported to the driver). */
  status(message: string): void;
  readonly task: TaskInfo;
}

/**
 * Emits one (key, value) pair. The value may be left out when its type allows `undefined`: it
 * then travels as `null`, and the default format writes the key alone on its line.
 */
export type Emit<K, V> = (key: K, ...value: undefined extends V ? [value?: V] : [value: V]) => void;

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
  readonly emit: Emit<K, V>;
  readonly split: SplitInfo;
  /**
   * Bytes of all of the task's splits: ctx.split's length for a task of one split, all its files'
   * for small files grouped into one task. What a state kept across them (`mapHooks: 'per-task'`)
   * is sized from: wordcount's table sized from its first 20 kB file grew 7 times per task.
   */
  readonly taskBytes: number;
  /** Where the current record is (a fresh object per access: read it only when needed). */
  readonly position: RecordLocation;
  /**
   * The task's partial records, for a job that combines in its own table and can write them
   * faster than emit can (README "The byte-level map"). Present in a step with a reduce, no
   * `partition` and no `sortValues`; a task that writes here must emit nothing.
   */
  readonly partials?: PartialSink;
}

/**
 * Where a map task can write its partial records itself (docs/WIRE.md "Partial records"): whole lines
 * `encodedKey TAB encodedValue LF`, each key once in the task, in partition
 * fnv1a32(encodedKey) mod `partitions`, sorted within a partition in natural key order across
 * all the task's writes (the reducer refuses a run that is not).
 */
export interface PartialSink {
  readonly partitions: number;
  /** Appends `lines` (whole partial lines, copied) to `partition`'s run. */
  write(partition: number, lines: Buffer): void;
}

/**
 * A reduce task's context. `emit` writes one output pair (any key, any number of times, from
 * `reduce` and from `reduceSetup` / `reduceTeardown`); in the last step it becomes an output line,
 * in an earlier step a record of the next step's map.
 */
export interface ReduceContext<K = unknown, V = unknown> extends TaskContext {
  readonly emit: Emit<K, V>;
}

/** What `reduce` may return: a value is the short form of `ctx.emit(key, value)`; nothing emits nothing. */
export type ReduceResult<Out> = Out | undefined | void;

/**
 * One map/reduce step: `map`, optional `combine`, optional `reduce`, their hooks and settings.
 * - `Rec` — the record handed to `map` (for a later step: `[key, value]` of the previous step).
 * - `K`, `V` — what `map` emits; both must survive `JSON.stringify` (the shuffle carries JSON).
 * - `OutKey`, `Out` — what `reduce` emits (or returns, with the input key).
 * - `MS`, `RS` — the state `mapSetup` / `reduceSetup` return, handed to every call of the task.
 *
 * Function members are declared as properties, not methods, so TypeScript checks their parameters
 * strictly (contravariantly): a `combine` whose types do not fit `map`'s `emit` is a compile error.
 * Object-literal method shorthand is still fine in a job module.
 */
export interface StepDefinition<Rec = string, K = string, V = unknown, Out = V, OutKey = K, MS = undefined, RS = undefined> {
  /** Once per map task, before the first record; its result is the task's state. May emit. */
  mapSetup?: (ctx: MapContext<K, V>) => MS | Promise<MS>;
  /**
   * Called once per record; synchronous on purpose, it is the hot path. Absent (in a step with a
   * reduce): records pass through, a `[key, value]` pair as emit(key, value), a first step's
   * record as emit(null, record).
   */
  map?: (record: Rec, ctx: MapContext<K, V>, state: MS) => void;
  /**
   * The byte-level map, for jobs that need speed: instead of one string per line, it receives
   * the split's lines as byte ranges of a Buffer, `bytes[start, end)`, many lines per call (about
   * 1 MiB). Each line ends at a '\n' or at `end`: a block always ends at a line end, a file's last
   * line may lack its '\n', and a '\r' before a '\n' is kept. The bytes are the file's (or the
   * decompressed file's), not validated as UTF-8. The Buffer is reused after the call returns:
   * copy what you keep. Only for 'lines' input of a first step; `ctx.position.offset` is the
   * absolute file offset of `bytes[start]` and `position.line` is 0 (lines are not counted), the
   * task summary's `records` counts calls, and `--max-bad-records` does not apply (a throw fails
   * the task). A step may have both (`mapBytes` then serves 'lines' input, `map` the others).
   */
  mapBytes?: (bytes: Buffer, start: number, end: number, ctx: MapContext<K, V>, state: MS) => void;
  /** Once per map task, after the last record, with the task's state. May still emit. */
  mapTeardown?: (ctx: MapContext<K, V>, state: MS) => void | Promise<void>;
  /**
   * When a map task reads several small files (they share a task up to the split size), whether
   * `setup`, `mapSetup`, `mapTeardown` and `teardown` run around each file ('per-split', the
   * default: the state is about one file, and `ctx.split` in mapTeardown names it) or once around
   * all of the task's files ('per-task': one state for the task, `ctx.split` is the first file at
   * setup and the last at teardown). 'per-task' is for jobs whose output does not depend on where
   * one split ends and the next begins, such as in-mapper combining of counts (wordcount): the
   * table then spans the files and is emitted once, not once per file. A single-file task is the
   * same either way.
   */
  mapHooks?: 'per-split' | 'per-task';
  /**
   * Binary, associative and commutative (Spark's reduceByKey style). Applied eagerly in the
   * mapper at emit time, so a map task holds one V per distinct key. May run 0..n times per key:
   * a job must give the same result with or without it.
   */
  combine?: (a: V, b: V, key: K) => V;
  /** Once per reduce task, before the first key; its result is the task's state. May emit. */
  reduceSetup?: (ctx: ReduceContext<OutKey, Out>) => RS | Promise<RS>;
  /**
   * Called once per distinct key, in natural key order, with all its values (in no specified
   * order across map tasks, unless `sortValues`). It may `ctx.emit` any number of pairs;
   * returning a value emits `(key, value)`. Memory: one key's values. Absent: a map-only step,
   * whose emitted pairs are its output, in record order.
   */
  reduce?: (key: K, values: V[], ctx: ReduceContext<OutKey, Out>, state: RS) => ReduceResult<Out>;
  /**
   * `reduce` with the key's values streamed from the sorted runs instead of held in an array,
   * for groups larger than memory: memory is about one chunk (1 MiB) per map task's run plus what
   * the reducer keeps. The iterable can be read once, during the call; what is left is skipped.
   */
  reduceStream?: (key: K, values: AsyncIterable<V>, ctx: ReduceContext<OutKey, Out>, state: RS) => ReduceResult<Out> | Promise<ReduceResult<Out>>;
  /** Once per reduce task, after the last key, with the task's state (mrjob's reducer_final). May emit. */
  reduceTeardown?: (ctx: ReduceContext<OutKey, Out>, state: RS) => void | Promise<void>;
  /** Hand each reduce call its values in natural order (secondary sort, mrjob's SORT_VALUES). */
  sortValues?: boolean;
  /** This step's number of reduce tasks (default: --reducers). */
  reducers?: number;
  /**
   * Picks the reduce partition of a key, an integer in [0, partitions). Default: FNV-1a 32-bit of
   * the UTF-8 bytes of `encodedKey` modulo `partitions` (see encoding.ts).
   */
  partition?: (key: K, encodedKey: string, partitions: number) => number;
  /**
   * Older form of the hooks, called in both phases with the same context as the calls (tell them
   * apart with `ctx.task.phase`). Prefer mapSetup/reduceSetup, whose state is typed.
   */
  setup?: (ctx: MapContext<K, V> | ReduceContext<OutKey, Out>) => void | Promise<void>;
  teardown?: (ctx: MapContext<K, V> | ReduceContext<OutKey, Out>) => void | Promise<void>;
}

/** Settings of the whole job, whatever its steps. */
export interface JobOptions {
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
}

/** A single-step job, written as one object: the step's members next to the job's settings. */
export interface JobDefinition<Rec = string, K = string, V = unknown, Out = V, OutKey = K, MS = undefined, RS = undefined>
  extends JobOptions,
    StepDefinition<Rec, K, V, Out, OutKey, MS, RS> {
  /**
   * One output line without '\n'. Default: the key (a string as-is, anything else as JSON), a TAB,
   * then the value (a string as-is, anything else as JSON); a key alone when the value is undefined.
   * A map-only job formats what map emits (OutKey = K, Out = V).
   */
  format?: (key: OutKey, out: Out) => string;
  steps?: undefined;
}

/** A job of several steps; only the last step's output is formatted. */
export interface PipelineDefinition<Steps extends readonly unknown[], OutKey, Out> extends JobOptions {
  steps: Steps;
  format?: (key: OutKey, out: Out) => string;
}

/** Marks a step made with `step()`, whose types are known (see defineJob). */
declare const typedStep: unique symbol;
export type TypedStep<Rec, K, V, Out, OutKey, MS, RS> = StepDefinition<Rec, K, V, Out, OutKey, MS, RS> & { readonly [typedStep]?: true };

/**
 * Types one step on its own (TypeScript infers a step's types best from a single object), so that
 * defineJob({ steps: [step({...}), step({...})] }) can check that each step's `map` accepts the
 * previous step's `[key, value]` output. A reducer that emits with `ctx.emit` declares its output
 * types on `ctx` (`ctx: ReduceContext<string, number>`), as nothing else tells the compiler.
 */
export function step<Rec = string, K = string, V = unknown, Out = V, OutKey = K, MS = undefined, RS = undefined>(
  def: StepDefinition<Rec, K, V, Out, OutKey, MS, RS>,
): TypedStep<Rec, K, V, Out, OutKey, MS, RS> {
  return def;
}

/**
 * A step written inline in `steps: [...]` (not through `step()`): TypeScript cannot infer the
 * types of steps inside an array, so its members are checked loosely (bivariant methods) and the
 * links between steps are not checked.
 */
export interface LooseStep {
  readonly [typedStep]?: never;
  mapSetup?(ctx: MapContext<unknown, unknown>): unknown;
  map?(record: never, ctx: MapContext<unknown, unknown>, state: never): void;
  mapBytes?(bytes: Buffer, start: number, end: number, ctx: MapContext<unknown, unknown>, state: never): void;
  mapTeardown?(ctx: MapContext<unknown, unknown>, state: never): void | Promise<void>;
  mapHooks?: 'per-split' | 'per-task';
  combine?(a: never, b: never, key: never): unknown;
  reduceSetup?(ctx: ReduceContext): unknown;
  reduce?(key: never, values: never, ctx: ReduceContext, state: never): unknown;
  reduceStream?(key: never, values: AsyncIterable<never>, ctx: ReduceContext, state: never): unknown;
  reduceTeardown?(ctx: ReduceContext, state: never): void | Promise<void>;
  sortValues?: boolean;
  reducers?: number;
  partition?(key: never, encodedKey: string, partitions: number): number;
  setup?(ctx: MapContext<unknown, unknown> | ReduceContext): void | Promise<void>;
  teardown?(ctx: MapContext<unknown, unknown> | ReduceContext): void | Promise<void>;
}

/**
 * The identity function; it exists for its types. With annotated parameters (or explicit type
 * arguments, `defineJob<string, string, number>({...})`), TypeScript checks that `combine`,
 * `reduce` and `format` fit what `map` emits. With steps made by `step()` (up to four), it also
 * checks that each step's `map` accepts the `[key, value]` pairs the previous step emits;
 * steps written inline are accepted with looser checks (see LooseStep).
 */
export function defineJob<R1, K1, V1, O1 = unknown, OK1 = unknown, MS1 = undefined, RS1 = undefined>(def: PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>], OK1, O1>): PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>], OK1, O1>;
export function defineJob<R1, K1, V1, O1, OK1, MS1, RS1, K2, V2, O2 = unknown, OK2 = unknown, MS2 = undefined, RS2 = undefined>(def: PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>], OK2, O2>): PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>], OK2, O2>;
export function defineJob<R1, K1, V1, O1, OK1, MS1, RS1, K2, V2, O2, OK2, MS2, RS2, K3, V3, O3 = unknown, OK3 = unknown, MS3 = undefined, RS3 = undefined>(def: PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>, StepDefinition<[OK2, O2], K3, V3, O3, OK3, MS3, RS3>], OK3, O3>): PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>, StepDefinition<[OK2, O2], K3, V3, O3, OK3, MS3, RS3>], OK3, O3>;
export function defineJob<R1, K1, V1, O1, OK1, MS1, RS1, K2, V2, O2, OK2, MS2, RS2, K3, V3, O3, OK3, MS3, RS3, K4, V4, O4 = unknown, OK4 = unknown, MS4 = undefined, RS4 = undefined>(def: PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>, StepDefinition<[OK2, O2], K3, V3, O3, OK3, MS3, RS3>, StepDefinition<[OK3, O3], K4, V4, O4, OK4, MS4, RS4>], OK4, O4>): PipelineDefinition<[StepDefinition<R1, K1, V1, O1, OK1, MS1, RS1>, StepDefinition<[OK1, O1], K2, V2, O2, OK2, MS2, RS2>, StepDefinition<[OK2, O2], K3, V3, O3, OK3, MS3, RS3>, StepDefinition<[OK3, O3], K4, V4, O4, OK4, MS4, RS4>], OK4, O4>;
/** Inline steps, or more than four: each step is checked loosely, the links between them are not. */
export function defineJob(def: PipelineDefinition<readonly LooseStep[], unknown, unknown>): PipelineDefinition<readonly LooseStep[], unknown, unknown>;
/** A single-step job. */
export function defineJob<Rec = string, K = string, V = unknown, Out = V, OutKey = K, MS = undefined, RS = undefined>(
  def: JobDefinition<Rec, K, V, Out, OutKey, MS, RS>,
): JobDefinition<Rec, K, V, Out, OutKey, MS, RS>;
export function defineJob(def: unknown): unknown {
  return def;
}

/** A step whose types are not known statically (a module loaded at run time). */
export type LoadedStep = StepDefinition<unknown, unknown, unknown, unknown, unknown, unknown, unknown>;

/** A job definition whose types are not known statically (a module loaded at run time). */
export interface LoadedJobDefinition extends JobOptions, LoadedStep {
  /** The job's steps; a single-step job is one step (its top-level members, also found here). */
  readonly steps: readonly LoadedStep[];
  /** Formats the last step's output pairs. */
  format?: (key: unknown, out: unknown) => string;
}

/** The default `format`: string keys and outputs as-is, anything else as JSON, joined by a TAB. */
export function defaultFormat(key: unknown, out: unknown): string {
  const k = typeof key === 'string' ? key : JSON.stringify(key);
  if (out === undefined) return k;
  const o = typeof out === 'string' ? out : JSON.stringify(out);
  return `${k}\t${o}`;
}
