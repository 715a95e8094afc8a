/**
 * Task logs on the driver's side: what job code wrote to stdout/stderr in each attempt (L frames),
 * kept in `<output>/_logs/<run>/<task>-attempt-<n>.log` (like Hadoop's task logs) and forwarded
 * line by line with a prefix naming the task and attempt (`[map 3 attempt 2] …`). Bounded twice:
 * per attempt (the workers are told the same limit; a foreign worker is cut here) and per run.
 * Where text was dropped, the log ends with a line that says how much, and which limit.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** The folder of an output that holds task logs (an `_` name: never read as input, kept by commits). */
export const LOGS_FOLDER = '_logs';
/** Per task attempt: 1 MiB. */
export const DEFAULT_TASK_LOG_LIMIT = 1 << 20;
/** Per run: 64 MiB. */
export const DEFAULT_RUN_LOG_LIMIT = 64 << 20;

export interface RunLogsOptions {
  /** The output folder; without one no file is kept (forwarding only). */
  output: string | undefined;
  /** The run's folder name under `_logs/` (the unique-key run id: a resumed driver has its own). */
  run: string;
  taskLimit: number;
  runLimit: number;
  /** Steps of the job: with several, file names and prefixes carry the step. */
  steps: number;
  /** Each complete line, with its prefix. */
  forward?: (line: string) => void;
}

/** Which attempt a log belongs to. */
export interface AttemptName {
  step: number;
  phase: 'map' | 'reduce';
  index: number;
  attempt: number;
}

/** What the manifest says about an attempt's log. */
export interface AttemptLogInfo {
  /** Relative to the output folder; absent without one. */
  path?: string;
  /** Bytes kept (notes included). */
  bytes: number;
  /** Some of the log was dropped by a limit (the last line of the log says which). */
  truncated?: boolean;
}

export class RunLogs {
  readonly options: RunLogsOptions;
  #total = 0;
  #folder: string | undefined;

  constructor(options: RunLogsOptions) {
    this.options = options;
  }

  attempt(name: AttemptName): AttemptLog {
    const several = this.options.steps > 1;
    const prefix = `[${several ? `step ${name.step + 1} ` : ''}${name.phase} ${name.index} attempt ${name.attempt}] `;
    const file = `${several ? `step-${name.step + 1}-` : ''}${name.phase}-${String(name.index).padStart(5, '0')}-attempt-${name.attempt}.log`;
    return new AttemptLog(this, prefix, file);
  }

  /** Takes up to `wanted` bytes of the run's allowance. */
  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.options.runLimit - this.#total));
    this.#total += granted;
    return granted;
  }

  /** Opens a log file (the folder is made with the first one); undefined without an output. */
  open(file: string): { fd: number; path: string } | undefined {
    const { output, run } = this.options;
    if (output === undefined) return undefined;
    if (this.#folder === undefined) {
      this.#folder = join(output, LOGS_FOLDER, run);
      mkdirSync(this.#folder, { recursive: true });
    }
    return { fd: openSync(join(this.#folder, file), 'a'), path: join(LOGS_FOLDER, run, file) };
  }
}

/** Runs an attempt with its log, ended (its file closed) however the attempt ends; its info goes in the outcome. */
export async function withAttemptLog<T extends { log?: AttemptLogInfo }>(
  logs: RunLogs | undefined,
  name: AttemptName,
  run: (log: AttemptLog | undefined) => Promise<T>,
): Promise<T> {
  const log = logs?.attempt(name);
  let outcome: T | undefined;
  try {
    outcome = await run(log);
  } finally {
    const info = log?.end();
    if (info && outcome) outcome.log = info;
  }
  return outcome;
}

export class AttemptLog {
  #file: { fd: number; path: string } | undefined;
  #opened = false;
  #bytes = 0;
  #droppedHere = 0;
  #droppedRun = 0;
  #droppedWorker = 0;
  #line = '';
  #atLineStart = true;
  #decoder = new StringDecoder('utf8');
  #ended = false;

  constructor(
    private readonly logs: RunLogs,
    private readonly prefix: string,
    private readonly file: string,
  ) {}

  write(data: Buffer): void {
    if (this.#ended || data.length === 0) return;
    const wanted = Math.min(Math.max(0, this.logs.options.taskLimit - this.#bytes), data.length);
    const granted = this.logs.take(wanted);
    this.#droppedHere += data.length - wanted;
    this.#droppedRun += wanted - granted;
    if (granted > 0) this.#keep(data.subarray(0, granted));
  }

  /** The worker dropped this many bytes past the limit it was given. */
  cut(bytes: number): void {
    this.#droppedWorker += bytes;
  }

  /** The job server ran the attempt again on another worker: what follows is that run's. */
  restarted(): void {
    if (this.#bytes > 0) this.#note('[gmr: the job server gave this attempt to another worker (the first one died or went away); its log follows]');
  }

  /** Ends the log (a last line says what was dropped); undefined when the attempt logged nothing. */
  end(): AttemptLogInfo | undefined {
    if (this.#ended) return undefined;
    const { taskLimit, runLimit } = this.logs.options;
    const perAttempt = this.#droppedHere + this.#droppedWorker;
    if (perAttempt > 0) this.#note(`[gmr: ${perAttempt} more bytes of this attempt's log were not kept (limit ${taskLimit} bytes per task attempt, --log-limit)]`);
    if (this.#droppedRun > 0) this.#note(`[gmr: ${this.#droppedRun} more bytes of this attempt's log were not kept: the run's task logs reached their limit (${runLimit} bytes, --run-log-limit)]`);
    const rest = this.#line + this.#decoder.end();
    if (rest !== '') this.logs.options.forward?.(`${this.prefix}${rest}`);
    this.#ended = true;
    if (this.#file !== undefined) closeSync(this.#file.fd);
    if (this.#bytes === 0) return undefined;
    const truncated = perAttempt > 0 || this.#droppedRun > 0;
    return { ...(this.#file === undefined ? {} : { path: this.#file.path }), bytes: this.#bytes, ...(truncated ? { truncated: true } : {}) };
  }

  /** A line of gmr's own, on a line of its own. */
  #note(text: string): void {
    this.#keep(Buffer.from(`${this.#atLineStart ? '' : '\n'}${text}\n`));
  }

  #keep(bytes: Buffer): void {
    this.#bytes += bytes.length;
    this.#atLineStart = bytes[bytes.length - 1] === 0x0a;
    if (!this.#opened) {
      this.#opened = true;
      this.#file = this.logs.open(this.file);
    }
    if (this.#file !== undefined) writeSync(this.#file.fd, bytes);
    const forward = this.logs.options.forward;
    if (forward === undefined) return;
    const lines = (this.#line + this.#decoder.write(bytes)).split('\n');
    this.#line = lines.pop() ?? '';
    for (const line of lines) forward(`${this.prefix}${line.endsWith('\r') ? line.slice(0, -1) : line}`);
  }
}
