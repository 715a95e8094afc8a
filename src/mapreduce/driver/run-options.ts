/**
 * What a run takes (`RunOptions`), checked in one place for the library and the CLI alike: the CLI
 * turns flag text into values with the parsers below, runJob checks the values, and both speak
 * with one wording: `--workers expects a whole number >= 1, received "two"`.
 */
import { parseServerAddress } from '../../connection/server-address.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import { UsageError } from '../../errors.ts';
import type { ParamValue } from '../job/params.ts';
import { checkStreamingSpec, type StreamingSpec } from '../job/streaming-job.ts';
import type { RunStatus } from '../status/run-status.ts';
import type { RunProgress } from './run-progress.ts';

export interface RunOptions {
  /** Built-in job name or path to a job module (or nothing, with `streaming`). */
  job?: string;
  /** A streaming job instead of a module: executables as mapper, combiner and reducer (run by workers). */
  streaming?: StreamingSpec;
  input: string[];
  /** Output folder; without it the result goes to `stdout`. */
  output?: string;
  overwrite?: boolean;
  /** `--param` values: text (read as each param's declared type) or values of that type. */
  params?: Record<string, ParamValue>;
  reducers?: number;
  splitSize?: number;
  maxAttempts?: number;
  /**
   * Attempts per task that may be lost without the task being at fault (its worker process died,
   * or its result did not verify) before the run fails. Default DEFAULT_MAX_LOST_ATTEMPTS.
   */
  maxLostAttempts?: number;
  /**
   * The run secret (text, at least 16 bytes) tasks are signed with and results verified against:
   * the one the external workers were started with. Without servers, a fresh one per run by default.
   */
  secret?: string;
  /** No signatures at all (trusted single-user set-ups; refused for servers off loopback). */
  insecure?: boolean;
  /**
   * Abandon a task attempt that makes no progress (no WORK_STATUS, no result data) on a worker for
   * this long (ms; time in the queue does not count) and run it again. Default 600 000 (Hadoop's
   * mapreduce.task.timeout); 0 disables it.
   */
  taskTimeoutMs?: number;
  /** With `servers`: fail the run when no job server has a worker for its functions this long (ms). Default 60 000; 0 waits forever. */
  noWorkerTimeoutMs?: number;
  /**
   * Skip up to this many records whose mapper throws (after maxAttempts attempts each), listing
   * them in `_bad_records`; the run fails above it. Undefined: the first bad record fails the run.
   */
  maxBadRecords?: number;
  /** External job servers; without them an embedded server and local workers are started. */
  servers?: string[];
  /** TLS for every server in `servers` (`tls://host:port` entries are TLS without it, with the system CAs). */
  tls?: TlsOptions;
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
  /** Where the result goes without `output` (the CLI passes process.stdout). Needed then. */
  stdout?: NodeJS.WritableStream;
  onProgress?: (progress: RunProgress) => void;
  onLog?: (line: string) => void;
  /**
   * Each line job code wrote to stdout/stderr in a task attempt, prefixed `[map 3 attempt 2] `.
   * With `output` the same is kept in `<output>/_logs/<run>/`.
   */
  onTaskLog?: (line: string) => void;
  /** Bytes of task log kept per task attempt (and sent by its worker). Default 1 MiB; 0 keeps none. */
  taskLogLimit?: number;
  /** Bytes of task log kept for the whole run. Default 64 MiB. */
  runLogLimit?: number;
  signal?: AbortSignal;
  /** Each version of the run status file as it is written (the dashboard of `gmr run --ui`). */
  onRunStatus?: (status: RunStatus) => void;
  /** The command line that started the run, kept in the status file so a reader can print how to resume. */
  command?: string[];
  /** The exit code the caller gives a failure (kept in the status file for `gmr status --watch`). Default 1. */
  exitCodeOf?: (error: unknown) => number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
/** Lost attempts are not the task's fault: a larger budget (Hadoop does not count killed attempts at all). */
export const DEFAULT_MAX_LOST_ATTEMPTS = 10;

/** The one wording of a bad option: `--flag expects …, received …`. */
export function optionError(flag: string, expected: string, received: unknown): UsageError {
  const text = typeof received === 'string' ? JSON.stringify(received) : String(received);
  return new UsageError(`${flag} expects ${expected}, received ${text}`);
}

function checkWhole(flag: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) throw optionError(flag, `a whole number >= ${min}`, value);
}

/** Throws a UsageError naming the first option that is out of range or missing. */
export function checkRunOptions(options: RunOptions): void {
  if (options.streaming !== undefined) {
    if (options.job !== undefined) throw new UsageError('A run is a job module or a streaming job (--mapper …), not both: drop <job> or --mapper');
    checkStreamingSpec(options.streaming);
  } else if (typeof options.job !== 'string' || options.job === '') {
    throw optionError('<job>', 'a built-in job name or a module path (or --mapper CMD for a streaming job)', options.job);
  }
  if (!Array.isArray(options.input) || options.input.length === 0) {
    throw new UsageError('No input: the run needs --input with files, folders or globs');
  }
  for (const server of options.servers ?? []) {
    try {
      parseServerAddress(server);
    } catch {
      throw optionError('--servers', 'host or host:port (port 1-65535), comma-separated', server);
    }
  }
  checkWhole('--max-attempts', options.maxAttempts, 1);
  checkWhole('--max-lost-attempts', options.maxLostAttempts, 1);
  checkWhole('--max-bad-records', options.maxBadRecords, 0);
  checkWhole('--workers', options.workers, 1);
  checkWhole('--reducers', options.reducers, 1);
  checkWhole('--split-size', options.splitSize, 1);
  checkWhole('--log-limit', options.taskLogLimit, 0);
  checkWhole('--run-log-limit', options.runLogLimit, 0);
  const timeout = options.taskTimeoutMs;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) throw optionError('--task-timeout', 'a time >= 0 (ms in taskTimeoutMs; 0 disables it)', timeout);
  if (options.resume && options.output === undefined) throw new UsageError('--resume needs --output: the run folder lives in the output folder');
  if (options.output === undefined && options.stdout === undefined) {
    throw new UsageError('Nowhere to write the result: give --output DIR (output), or a stream in stdout');
  }
}

/** `--workers 4`: a whole number >= min from flag text (undefined when the flag is absent). */
export function parseWhole(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(n) || n < min) throw optionError(flag, `a whole number >= ${min}`, text);
  return n;
}

/** `--task-timeout 1.5`: seconds from flag text, as milliseconds; 0 only where `zero` allows it (0 disables). */
export function parseSeconds(text: string | undefined, flag: string, zero = false): number | undefined {
  if (text === undefined) return undefined;
  const ms = text.trim() === '' ? Number.NaN : Math.round(Number(text) * 1000);
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !zero)) throw optionError(flag, zero ? 'seconds >= 0 (0 disables it)' : 'seconds > 0', text);
  return ms;
}

/** Hadoop's mapreduce.task.timeout: an attempt without progress for 10 minutes is abandoned. */
export const DEFAULT_TASK_TIMEOUT_MS = 600_000;

/** `--split-size 64m`: a size in bytes from flag text (k, m, g, t are powers of 1024). */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!match) throw optionError(flag, 'a size like 65536, 512k or 64m', text);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(match[2] ?? '').toLowerCase()] ?? 1;
  const value = Math.floor(Number(match[1]) * scale);
  if (value < 1) throw optionError(flag, 'at least 1 byte', text);
  return value;
}
