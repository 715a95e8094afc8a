/**
 * The wire contract of map and reduce tasks: Gearman function names, payloads, result frames.
 * docs/WIRE.md describes the same contract for workers written in other languages; keep them in step.
 *
 * - Function names: `gmr.map.<job>` and `gmr.reduce.<job>`.
 * - Payload: one line of JSON (the task header), `\n`, then optional raw bytes (the body): shipped
 *   split bytes for a map task, or shipped sorted runs for a reduce task (`--ship`). With a run
 *   secret (the default) a signature line comes first (task-auth.ts).
 * - The worker streams its results as WORK_DATA frames, each a header line then bytes:
 *     `B <attempt-id>\n`          first frame of every attempt. A job server requeues a job whose
 *                                 worker died, and the client is not told, so a driver that sees a
 *                                 second B frame for one handle discards what the earlier attempt sent.
 *     `P <partition>\n<records>`  sorted partial records of one partition (map with reduce).
 *     `O\n<lines>`                output lines (map-only map tasks, and reduce tasks): formatted in
 *                                 the last step, pair records before a later step.
 *     `K\n<lines>`                last-step reduce tasks: `<n> TAB <encodedKey>` per reduce call that
 *                                 wrote n > 0 lines (`^` setup, `$` teardown), for the stdout merge.
 *     `E <json>\n`                sent just before WORK_EXCEPTION when a record made the task fail:
 *                                 `{"path","line","offset","message"}`, so the driver can skip it.
 *     `L <out|err>\n<text>`       what job code wrote to stdout or stderr (console.*), in order,
 *                                 at most the header's logLimit bytes per attempt (wire version 4).
 *     `L cut <n>\n`               the attempt's log passed logLimit: n more bytes were not sent.
 *     `S\n<text>`                 the task's latest ctx.status(text), while it runs (wire version 4).
 * - WORK_STATUS: map = (split bytes read, split length); reduce = (run bytes merged, run bytes total).
 * - WORK_COMPLETE: the task summary as JSON. A failure is WORK_EXCEPTION with a one-line report.
 *   With a run secret both carry the result stream's MAC first (task-auth.ts).
 */
import { TaskError } from '../../errors.ts';
import type { Params } from '../job/define-job.ts';
import { signTask, verifyTask, type RunSecret } from './task-auth.ts';
import type { StreamTaskField } from './streaming-header.ts';

/**
 * 4: `L` (task log) and `S` (task status) result frames, and the header's logLimit. 3: task headers
 * name their unique key and module; payloads and results are signed. 2: natural key order.
 */
export const WIRE_VERSION = 4;
const MAP_PREFIX = 'gmr.map.';
const REDUCE_PREFIX = 'gmr.reduce.';

export function mapFunctionName(job: string): string {
  return `${MAP_PREFIX}${job}`;
}

export function reduceFunctionName(job: string): string {
  return `${REDUCE_PREFIX}${job}`;
}

/**
 * `gmr.module.<job>.<first 12 hex digits of the module's sha256>`: a function a task worker
 * registers only to show which module it serves, so the driver's preflight can see it in the
 * servers' status before any task runs. Submitting to it fails.
 */
export function moduleFunctionName(job: string, sha256: string): string {
  return `gmr.module.${job}.${sha256.slice(0, 12)}`;
}

export interface SplitRef {
  path: string;
  offset: number;
  length: number;
  compressed: boolean;
}

/** Which job module the driver loaded: a worker with another one refuses the task. */
export interface ModuleIdentity {
  /** SHA-256 (hex) of the module file's bytes. */
  sha256: string;
  /** The driver's gmr version. */
  gmr: string;
}

/** Fields every task header has. */
export interface TaskHeaderBase {
  v: number;
  /** The Gearman unique key the task was submitted with (the signature binds the payload to it). */
  unique: string;
  run: string;
  job: string;
  task: number;
  partitions: number;
  params: Params;
  /** The step of a job of several steps (0-based); absent for step 0. */
  step?: number;
  /** The step sorts values: equal keys' records are sorted by encodedValue in natural order. */
  sortValues?: boolean;
  module?: ModuleIdentity;
  /** Streaming tasks (gmr.map.stream-…): the commands the driver means, checked against the worker's own. */
  stream?: StreamTaskField;
  /** Bytes of job code's stdout/stderr an attempt may send in L frames (default DEFAULT_LOG_LIMIT; 0: none). */
  logLimit?: number;
}

/** An attempt's log limit when the header gives none: 1 MiB. */
export const DEFAULT_LOG_LIMIT = 1 << 20;
/** A status text longer than this is cut (the driver keeps the same). */
export const MAX_STATUS_LENGTH = 1000;

export interface MapTaskHeader extends TaskHeaderBase {
  /** The split; of a task of small files grouped (`splits`), the first of them. */
  split: SplitRef;
  /**
   * Small files grouped into one task: whole files (offset 0), read in this order, each its own
   * split for the job. On the wire it replaces `split`, so a worker that does not know it fails
   * the task (no `split`) instead of reading the first file only. Never with shipped or skip.
   */
  splits?: SplitRef[];
  /** Lines in the file before the split's first record, for file-absolute line numbers. */
  lineBase?: number;
  /** The CSV header line of the split's file, for splits that do not start at 0. */
  header?: string;
  /**
   * Present when the body carries the bytes (`--ship`): for an uncompressed file, exactly the
   * records the split owns, starting at byte `start` of the file; for .gz, the whole compressed file.
   */
  shipped?: { start: number };
  /** Byte offsets of records to skip (bad records, `--max-bad-records`). */
  skip?: number[];
}

export interface ReduceTaskHeader extends TaskHeaderBase {
  /** Sorted runs to merge: files on a shared filesystem ... */
  runs?: string[];
  /** ... or the byte lengths of the runs shipped back to back in the body. */
  shippedRuns?: number[];
}

/** The payload of a task: signed with the run secret unless there is none (--insecure). */
export function encodeTask(header: MapTaskHeader | ReduceTaskHeader, body?: Buffer, secret?: RunSecret): Buffer {
  const wire = 'splits' in header && header.splits !== undefined ? { ...header, split: undefined } : header;
  const head = Buffer.from(`${JSON.stringify(wire)}\n`);
  const unsigned = body && body.length > 0 ? Buffer.concat([head, body]) : head;
  return secret ? signTask(secret, unsigned) : unsigned;
}

/**
 * The header and body of a payload. With a secret the signature must verify first (nothing of an
 * unverified payload is parsed or echoed); without one (--insecure) a signed payload is refused,
 * since this worker could not sign its results.
 */
export function decodeTask(signedPayload: Buffer, secret?: RunSecret): { header: Record<string, unknown>; body: Buffer } {
  let payload: Buffer;
  if (secret) payload = verifyTask(secret, signedPayload);
  else if (signedPayload[0] !== 0x7b /* { */) {
    throw new TaskError('Refused a signed task: this worker runs with --insecure (no run secret), so it could not sign its results; give it the run\'s secret (--secret-file or GMR_SECRET)');
  } else payload = signedPayload;
  const newline = payload.indexOf(10);
  const end = newline < 0 ? payload.length : newline;
  let header: unknown;
  try {
    header = JSON.parse(payload.toString('utf8', 0, end));
  } catch (error) {
    throw new TaskError(
      `Bad task payload: expected a JSON header line, received ${JSON.stringify(payload.toString('utf8', 0, Math.min(end, 80)))}`,
      { cause: error },
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new TaskError('Bad task payload: the header line is not a JSON object');
  }
  const record = header as Record<string, unknown>;
  if (record['v'] !== WIRE_VERSION) {
    throw new TaskError(`Bad task payload: expected wire version ${WIRE_VERSION}, received ${String(record['v'])}`);
  }
  return { header: record, body: newline < 0 ? Buffer.alloc(0) : payload.subarray(newline + 1) };
}

/** What failed: a record (skippable with --max-bad-records), the job's setup (fails the run at once), or the task otherwise. */
export type FailureStage = 'record' | 'setup' | 'task';

/** Where a task failed (the E frame): for a record its file line and byte offset; offset -1 otherwise. */
export interface RecordFailure {
  path: string;
  line: number;
  offset: number;
  message: string;
  /** Absent from older workers: then a failure with offset >= 0 is a record's. */
  stage?: FailureStage;
  /** The first stack frame in the job's module, `my-job.ts:6:21`. */
  at?: string;
  /** The user's stack, source-mapped where the module has a source map (tsx's do). */
  stack?: string;
}

export type ResultFrame =
  | { kind: 'begin'; attempt: string }
  | { kind: 'failure'; failure: RecordFailure }
  | { kind: 'partial'; partition: number; data: Buffer }
  | { kind: 'output'; data: Buffer }
  | { kind: 'keys'; data: Buffer }
  | { kind: 'log'; stream: LogStream; data: Buffer }
  | { kind: 'logCut'; bytes: number }
  | { kind: 'status'; text: string };

/** Which of job code's streams a log frame carries. */
export type LogStream = 'out' | 'err';

export function beginFrame(attempt: string): Buffer {
  return Buffer.from(`B ${attempt}\n`);
}

export function partialFrame(partition: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`P ${partition}\n`), data]);
}

export function outputFrame(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from('O\n'), data]);
}

/** In a K frame, the marks of lines that a reducer's setup and teardown hooks wrote. */
export const KEYS_SETUP_MARK = '^';
export const KEYS_TEARDOWN_MARK = '$';

export function keysFrame(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from('K\n'), data]);
}

export function logFrame(stream: LogStream, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`L ${stream}\n`), data]);
}

export function logCutFrame(bytes: number): Buffer {
  return Buffer.from(`L cut ${bytes}\n`);
}

export function statusFrame(text: string): Buffer {
  return Buffer.from(`S\n${text}`, 'utf8');
}

export function failureFrame(failure: RecordFailure): Buffer {
  return Buffer.from(`E ${JSON.stringify(failure)}\n`);
}

export function decodeFrame(frame: Buffer): ResultFrame {
  const newline = frame.indexOf(10);
  if (newline < 1) throw new TaskError(`Bad result frame: expected "B", "P <n>", "O" or "K" and a newline, received ${JSON.stringify(frame.toString('utf8', 0, 40))}`);
  const head = frame.toString('latin1', 0, newline);
  const data = frame.subarray(newline + 1);
  if (head === 'O') return { kind: 'output', data };
  if (head === 'K') return { kind: 'keys', data };
  if (head === 'S') return { kind: 'status', text: data.toString('utf8', 0, Math.min(data.length, 4 * MAX_STATUS_LENGTH)).slice(0, MAX_STATUS_LENGTH) };
  if (head === 'L out' || head === 'L err') return { kind: 'log', stream: head === 'L out' ? 'out' : 'err', data };
  if (head.startsWith('L cut ')) {
    const bytes = Number(head.slice(6));
    if (Number.isSafeInteger(bytes) && bytes >= 0) return { kind: 'logCut', bytes };
  }
  if (head.startsWith('P ')) {
    const partition = Number(head.slice(2));
    if (Number.isInteger(partition) && partition >= 0) return { kind: 'partial', partition, data };
  }
  if (head.startsWith('B ') && head.length > 2) return { kind: 'begin', attempt: head.slice(2) };
  if (head.startsWith('E ')) {
    const failure = JSON.parse(frame.toString('utf8', 2, newline)) as RecordFailure;
    return { kind: 'failure', failure };
  }
  throw new TaskError(`Bad result frame header: expected "B <id>", "P <n>", "O", "K", "L out", "L err" or "S", received ${JSON.stringify(head.slice(0, 40))}`);
}
