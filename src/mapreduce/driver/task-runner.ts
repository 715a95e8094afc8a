/**
 * Runs one map or reduce task through Gearman: a foreground submit with a deterministic unique
 * key, result frames written to files as they arrive, retries up to maxAttempts. The driver
 * accepts one result per task: frames of an attempt that the job server silently requeued are
 * discarded at the next `B` frame, so a task that ran twice is never counted twice.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '../../client/client.ts';
import { ConnectionError, GearmanError, JobExceptionError, JobFailedError, TaskError } from '../../errors.ts';
import { randomBytes } from 'node:crypto';
import { ResultMac, type RunSecret } from '../shuffle/task-auth.ts';
import { decodeFrame, type RecordFailure } from '../shuffle/task-protocol.ts';
import { partName, TASK_KEYS_NAME } from './part-names.ts';
import type { PayloadBuilder } from './task-plan.ts';
import { withAttemptLog, type AttemptLog, type AttemptLogInfo, type RunLogs } from './run-logs.ts';
import type { BadRecordBudget } from './bad-records.ts';

export interface TaskAttempt {
  attempt: number;
  startedAt: number;
  ms: number;
  error?: string;
  /**
   * Times a job server ran this attempt again on another worker (its worker died or timed out):
   * each restart begins with a new B frame, and what the earlier run sent was discarded.
   */
  restarts?: number;
  /** The worker that delivered the result (`host:pid`, from its summary). */
  worker?: string;
  /** A failed attempt, as its worker reported it: where, the first frame in the job's module, the stack. */
  failure?: RecordFailure;
  /**
   * Why a failed attempt ended: 'failed' in job code (the task's own fault, --max-attempts), or
   * 'lost' with its worker or its result untrusted (not the task's fault, --max-lost-attempts).
   * Restarts are lost attempts too. 'aborted' when the run stopped while it ran (another task
   * failed for good, or SIGINT/SIGTERM): it counts against neither allowance, and its task is
   * not a failed task (it is pending again, for --resume).
   */
  outcome?: 'failed' | 'lost' | 'aborted';
  /** What job code wrote to stdout/stderr in this attempt (absent when nothing). */
  log?: AttemptLogInfo;
}

/** `TaskRecord.files` keys of a task's output (O frames) and key list (K frames). */
export const OUTPUT_FILE = -1;
export const KEYS_FILE = -2;

export interface TaskRecord {
  phase: 'map' | 'reduce';
  index: number;
  /** `path@offset+length` for map tasks. */
  input?: string;
  attempts: TaskAttempt[];
  /** The worker's summary (JSON of WORK_COMPLETE). */
  summary?: Record<string, unknown>;
  /** Files the task's result frames were written to (partition, OUTPUT_FILE or KEYS_FILE → path). */
  files: Map<number, string>;
  bytesDone: number;
  bytesTotal: number;
  state: 'pending' | 'running' | 'done' | 'failed';
  /** The unique key the current (or last) attempt was submitted under, for GET_STATUS_UNIQUE. */
  unique?: string;
  /** The running attempt's latest ctx.status text (S frames), and when it came (Date.now()). */
  status?: string;
  statusAt?: number;
}

export interface RunTaskOptions {
  client: Client;
  fn: string;
  unique: string;
  /** Builds an attempt's payload for its unique key, skipping bad records at these offsets. */
  payload: PayloadBuilder;
  record: TaskRecord;
  /** Folder for this task's result files. */
  dir: string;
  /** File name for output frames; partial frames go to `part-<partition>`. */
  outputName: string;
  maxAttempts: number;
  /** Attempts (and restarts) a task may lose to dead workers or untrusted results before the run fails. */
  maxLostAttempts: number;
  /** The run secret results must be signed with; undefined with --insecure. */
  secret: RunSecret | undefined;
  /** Abandon an attempt that runs (from its B frame) longer than this (--task-timeout) and run the task again. */
  timeoutMs?: number;
  /** With --max-bad-records: a record that fails maxAttempts times is skipped, within the budget. */
  badRecords?: BadRecordBudget;
  signal?: AbortSignal;
  onStatus?: (record: TaskRecord) => void;
  /** Told of each result the driver ignored (it did not verify with the run secret). */
  onWarning?: (line: string) => void;
  /** Where attempts' logs go (L frames); without it they are dropped. */
  logs?: RunLogs;
  /** The task's step (0-based), for its logs' names. */
  step?: number;
}

interface AttemptOutcome {
  log?: AttemptLogInfo;
  summary?: Record<string, unknown>;
  error?: unknown;
  failure?: RecordFailure;
  restarts: number;
  /** The task crashed worker processes again and again: do not try it again. */
  fatal?: boolean;
  /** The attempt was lost (its result did not verify), not failed by job code. */
  lost?: boolean;
}

/** A later attempt's unique key: its own (see attemptTask) and unguessable, so no one can submit it first. */
function attemptUnique(unique: string, attempt: number): string {
  return attempt === 1 ? unique : `${unique}:${attempt}.${randomBytes(4).toString('hex')}`;
}

/** The text of a WORK_COMPLETE or WORK_EXCEPTION, verified against the stream's MAC when signed. */
function openResult(mac: ResultMac | undefined, kind: 'C' | 'X', data: Buffer): Buffer | undefined {
  return mac ? mac.open(kind, data) : data;
}

function errorText(error: unknown): string {
  if (error instanceof JobExceptionError) return error.message;
  if (error instanceof GearmanError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** One attempt, with its log (ended however the attempt ends). */
async function attemptTask(options: RunTaskOptions, skip: number[], attempt: number, lostSoFar: number): Promise<AttemptOutcome> {
  const name = { step: options.step ?? 0, phase: options.record.phase, index: options.record.index, attempt };
  return withAttemptLog(options.logs, name, (log) => attemptStream(options, skip, attempt, lostSoFar, log));
}

/** One attempt: submit, write frames, resolve with the summary or the error. */
async function attemptStream(options: RunTaskOptions, skip: number[], attempt: number, lostSoFar: number, log: AttemptLog | undefined): Promise<AttemptOutcome> {
  const { record, dir } = options;
  const fds = new Map<number, number>();
  const open = (key: number, name: string): number => {
    let fd = fds.get(key);
    if (fd === undefined) {
      const path = join(dir, name);
      fd = openSync(path, 'w');
      fds.set(key, fd);
      record.files.set(key, path);
    }
    return fd;
  };
  const reset = (): void => {
    for (const fd of fds.values()) closeSync(fd);
    fds.clear();
    for (const path of record.files.values()) rmSync(path, { force: true });
    record.files.clear();
  };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let frameError: Error | undefined;
  let failure: RecordFailure | undefined;
  let begun = false;
  let restarts = 0;
  // --task-timeout counts from the moment a worker starts the task (its B frame), not from the
  // submit: a task waiting in the queue behind others is not hung. A restart starts the clock again.
  const abandon = new AbortController();
  let timedOut: TaskError | undefined;
  let crashed: TaskError | undefined;
  let timer: NodeJS.Timeout | undefined;
  const startClock = (): void => {
    if (options.timeoutMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = new TaskError(
        `Task ${options.unique}: attempt ${attempt} made no progress (no WORK_STATUS, no data) for --task-timeout (${options.timeoutMs} ms) on a worker; abandoned (the worker may still be running it)`,
      );
      abandon.abort(timedOut);
    }, options.timeoutMs);
  };
  const onRunAbort = (): void => abandon.abort(options.signal?.reason);
  if (options.signal?.aborted) onRunAbort();
  else options.signal?.addEventListener('abort', onRunAbort, { once: true });
  // A later attempt gets its own unique key: an abandoned (timed-out) attempt may still be queued
  // or running on the server, and must not swallow the new one by coalescing.
  record.unique = attemptUnique(options.unique, attempt);
  const payload = options.payload(skip, record.unique);
  const mac = options.secret ? new ResultMac(options.secret, record.unique) : undefined;
  const handle = options.client.submit(options.fn, payload, {
    unique: record.unique,
    signal: abandon.signal,
  });
  handle.on('data', (chunk: Buffer) => {
    if (frameError) return;
    try {
      const frame = decodeFrame(chunk);
      if (frame.kind === 'begin') mac?.restart();
      mac?.frame(chunk);
      if (frame.kind !== 'begin' && !begun) {
        // Joined a job that was already running (coalesced on its unique key): the frames sent
        // before we attached are gone, so this result would be incomplete.
        throw new TaskError(`Task ${options.unique}: result stream started without a B frame (incomplete result); retrying`);
      }
      if (frame.kind === 'begin') {
        startClock();
        if (begun) restarts++;
        if (lostSoFar + restarts >= options.maxLostAttempts) {
          // Job servers requeue the job of a worker that died, without limit (gearmand's default):
          // a record that crashes the worker process would take every worker down in turn.
          crashed = new TaskError(
            `Task ${options.unique}: ${lostSoFar + restarts} worker processes died while running it (--max-lost-attempts ${options.maxLostAttempts}; a record may crash the worker process, e.g. out of memory); giving up`,
          );
          abandon.abort(crashed);
          return;
        }
        if (begun) log?.restarted();
        begun = true;
        record.state = 'running';
        delete record.status;
        delete record.statusAt;
        options.onStatus?.(record);
        // A new attempt on the same handle (the server requeued the job): start over.
        reset();
        record.bytesDone = 0;
        failure = undefined;
        return;
      }
      // Result data is progress: the attempt is alive (--task-timeout counts time without any).
      startClock();
      if (frame.kind === 'failure') {
        failure = frame.failure;
      } else if (frame.kind === 'log') {
        log?.write(frame.data);
      } else if (frame.kind === 'logCut') {
        log?.cut(frame.bytes);
      } else if (frame.kind === 'status') {
        record.status = frame.text;
        record.statusAt = Date.now();
        options.onStatus?.(record);
      } else if (frame.kind === 'partial') {
        writeSync(open(frame.partition, partName(frame.partition)), frame.data);
      } else if (frame.kind === 'keys') {
        writeSync(open(KEYS_FILE, TASK_KEYS_NAME), frame.data);
      } else {
        writeSync(open(OUTPUT_FILE, options.outputName), frame.data);
      }
    } catch (error) {
      frameError = error as Error;
    }
  });
  handle.on('status', (numerator: number, denominator: number) => {
    if (begun) startClock();
    record.bytesDone = numerator;
    if (denominator > 0) record.bytesTotal = denominator;
    options.onStatus?.(record);
  });
  try {
    const sealed = await handle;
    if (frameError) throw frameError;
    const result = openResult(mac, 'C', sealed);
    if (result === undefined) {
      // Anyone who can reach the job server can serve a task; only the run secret's holders can sign.
      const untrusted = new TaskError(`Task ${record.unique}: ignored a result that does not verify with the run secret (a worker without the secret, or a changed result)`);
      return { error: untrusted, restarts, lost: true };
    }
    const text = result.toString('utf8');
    try {
      return { summary: JSON.parse(text) as Record<string, unknown>, restarts };
    } catch {
      throw new TaskError(`Task ${options.unique}: expected a JSON summary in WORK_COMPLETE, received ${JSON.stringify(text.slice(0, 80))}`);
    }
  } catch (error) {
    if (crashed) return { error: crashed, restarts, fatal: true };
    if (mac && error instanceof JobFailedError && !timedOut) {
      // WORK_FAIL carries no report to verify: anyone who can reach the server could send it.
      const untrusted = new TaskError(`Task ${record.unique}: ignored a failure without a signed report (WORK_FAIL; a worker without the secret?)`);
      return { error: untrusted, restarts, lost: true };
    }
    if (error instanceof JobExceptionError && !frameError && !timedOut) {
      const report = openResult(mac, 'X', error.exception);
      if (report === undefined) {
        const untrusted = new TaskError(`Task ${record.unique}: ignored a failure report that does not verify with the run secret (a worker without the secret?)`);
        return { error: untrusted, restarts, lost: true };
      }
      return { error: new TaskError(report.toString('utf8'), { cause: error }), restarts, ...(failure ? { failure } : {}) };
    }
    return { error: timedOut ?? error, restarts, ...(failure ? { failure } : {}) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onRunAbort);
    for (const fd of fds.values()) closeSync(fd);
  }
}

/** How long, in all, a task waits for a job server to be reachable before such failures count as attempts. */
const SERVER_OUTAGE_MS = 60_000;

/**
 * Runs a task to success or until maxAttempts attempts have failed in job code, or maxLostAttempts
 * were lost (worker processes that died under it, results that did not verify), then throws
 * TaskError. Hadoop keeps "killed" attempts apart from "failed" ones in the same way: a worker
 * killed from outside is not the task's fault. With a bad-record budget, a record that made
 * maxAttempts attempts fail is skipped and the task runs again without it; the attempts count
 * again from there.
 */
export async function runTask(options: RunTaskOptions): Promise<TaskRecord> {
  const { record } = options;
  // "running" is set when a worker starts an attempt (its B frame), not at the submit: a task
  // waiting in the queue is not running.
  const skip: number[] = [];
  let failedInARow = 0;
  let outageMs = 0;
  let lost = 0;
  for (let attempt = 1; ; attempt++) {
    const startedAt = Date.now();
    const outcome = await attemptTask(options, skip, attempt, lost);
    lost += outcome.restarts;
    const restarts = outcome.restarts > 0 ? { restarts: outcome.restarts } : {};
    if (outcome.summary) {
      record.summary = outcome.summary;
      const worker = typeof outcome.summary['worker'] === 'string' ? { worker: outcome.summary['worker'] } : {};
      record.attempts.push({ attempt, startedAt, ms: Date.now() - startedAt, ...restarts, ...worker, ...(outcome.log ? { log: outcome.log } : {}) });
      record.state = 'done';
      record.bytesDone = record.bytesTotal;
      options.onStatus?.(record);
      return record;
    }
    const text = errorText(outcome.error);
    const where = outcome.failure;
    const stopped = options.signal?.aborted === true && !outcome.fatal;
    const kind = stopped ? 'aborted' : outcome.lost || outcome.fatal ? 'lost' : 'failed';
    record.attempts.push({
      attempt,
      startedAt,
      ms: Date.now() - startedAt,
      error: text,
      ...restarts,
      ...(where === undefined ? {} : { failure: where }),
      outcome: kind,
      ...(outcome.log ? { log: outcome.log } : {}),
    });
    if (stopped) {
      record.state = 'pending';
      options.onStatus?.(record);
      throw new TaskError(`${record.phase} task ${record.index} was stopped: the run stopped while it ran`, { cause: options.signal?.reason });
    }
    if (outcome.fatal) break;
    if (outcome.lost) {
      options.onWarning?.(`warning: ${text}; running it again`);
      lost++;
      if (lost < options.maxLostAttempts) continue;
      break;
    }
    // A setup that throws throws on every attempt and every task: fail the run once, now.
    if (where?.stage === 'setup') break;
    if (outcome.error instanceof ConnectionError && outageMs < SERVER_OUTAGE_MS) {
      // No job server reachable (a restart, say): wait for one instead of spending the task's
      // attempts within milliseconds. Such attempts do not count, up to SERVER_OUTAGE_MS in all.
      const delay = Math.min(250 * 2 ** Math.floor(outageMs / 1000), 4000);
      outageMs += delay;
      try {
        await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        break; // the run was aborted
      }
      continue;
    }
    failedInARow++;
    if (failedInARow < options.maxAttempts) continue;
    const failure = outcome.failure;
    const isRecord = failure !== undefined && failure.offset >= 0 && (failure.stage === undefined || failure.stage === 'record');
    if (options.badRecords && failure && isRecord && !skip.includes(failure.offset)) {
      if (!options.badRecords.take({ ...failure, task: record.index })) {
        record.state = 'failed';
        options.onStatus?.(record);
        throw new TaskError(
          `More than ${options.badRecords.max} bad record${options.badRecords.max === 1 ? '' : 's'} (--max-bad-records); the last: ${text}`,
          { cause: outcome.error },
        );
      }
      skip.push(failure.offset);
      failedInARow = 0;
      continue;
    }
    break;
  }
  const last = record.attempts[record.attempts.length - 1];
  record.state = 'failed';
  options.onStatus?.(record);
  const n = record.attempts.length;
  throw new TaskError(
    `${record.phase} task ${record.index}${record.input ? ` (${record.input})` : ''} failed after ${n} attempt${n === 1 ? '' : 's'}: ${last?.error ?? 'unknown error'}`,
  );
}
