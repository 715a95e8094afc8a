/**
 * One streaming command as a child process: no shell, its input piped in with backpressure (a
 * command that stops reading just stops getting input), its stdout read as bounded lines (split2
 * behind WholeLines) handed on with backpressure, its stderr read for Hadoop's reporter lines
 * (`reporter:counter:<group>,<name>,<amount>`, `reporter:status:<message>`) and kept as a tail.
 * It is killed (SIGTERM, SIGKILL 2 s later) when the task is aborted, when it makes no progress
 * for `idleMs`, or when its output is refused; in every case it is waited for, so none is left.
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
import { TaskError } from '../../errors.ts';
import { commandText, type StreamingRole } from '../job/streaming-job.ts';
import type { TaskState } from './task-state.ts';
import { WholeLines } from './whole-lines.ts';

/** Lines kept from a command's stderr for the failure report. */
const TAIL_LINES = 20;
const TAIL_LINE_CHARS = 500;
/** A stderr line longer than this is cut (stderr is for people, not data). */
const STDERR_LINE_BYTES = 64 * 1024;
const KILL_GRACE_MS = 2000;
/** Errors of writing to a command that stopped reading: not a failure, its exit status decides. */
const CLOSED_EARLY = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET']);

export interface CommandOptions {
  role: StreamingRole;
  command: readonly string[];
  /** The whole environment of the command. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** What the command reads on stdin; bytes are pulled only as fast as it reads. */
  input: AsyncIterable<Buffer> | Readable;
  /** Each stdout line, without its '\n'; a returned promise pauses stdout until it settles. */
  onLine: (line: string) => void | Promise<void>;
  /** Bytes of `input` the command took so far. */
  onInput?: (bytes: number) => void;
  /** stderr lines that are not reporter lines (the task's log). */
  onLog?: (line: string) => void;
  /** Counters and status from reporter lines. */
  state: TaskState;
  maxLineBytes: number;
  /** Kill the command when it reads, writes and logs nothing for this long. */
  idleMs?: number;
  signal?: AbortSignal;
  /** Told the child's pid once it runs (tests check that none is left). */
  onSpawn?: (pid: number) => void;
}

/** A command that failed: the message is one line; the stderr tail is kept for the E frame. */
export class CommandFailure extends TaskError {
  constructor(
    message: string,
    readonly stderrTail: readonly string[],
  ) {
    super(message);
  }
}

/** `mapper "python3 map.py"`: how reports name a command, on one line (a newline shows as \n). */
export function commandName(role: StreamingRole, command: readonly string[]): string {
  return `${role} "${commandText(command).replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`;
}

/** A reporter line's effect, or false when the line is not one (it is then a log line). */
function reporterLine(line: string, state: TaskState): boolean {
  if (line.startsWith('reporter:status:')) {
    state.setStatus(line.slice('reporter:status:'.length));
    return true;
  }
  if (!line.startsWith('reporter:counter:')) return false;
  const fields = line.slice('reporter:counter:'.length).split(',');
  const amount = Number(fields[2]);
  if (fields.length !== 3 || fields[0] === '' || fields[1] === '' || !Number.isSafeInteger(amount)) return false;
  state.count(`${fields[0]}.${fields[1]}`, amount);
  return true;
}

function tailText(tail: readonly string[]): string {
  if (tail.length === 0) return '; nothing on stderr';
  const text = tail.slice(-3).join(' | ');
  return `; stderr ends: ${text.length > 400 ? `…${text.slice(-400)}` : text}`;
}

/** Runs the command to its end; resolves when it exited 0 and its output was handed on, else throws. */
export async function runCommand(options: CommandOptions): Promise<void> {
  const name = commandName(options.role, options.command);
  const [program, ...args] = options.command as [string, ...string[]];
  const child = spawn(program, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let failure: Error | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const kill = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = error instanceof Error ? error : new TaskError(String(error));
    clearTimeout(idleTimer);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    // Destroying our ends lets 'close' come even if a grandchild still holds the pipes.
    child.stdin.destroy();
    child.stdout.destroy();
    child.stderr.destroy();
  };
  child.once('error', (error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? `${program}: no such program (not found on PATH or not a file)` : error.message;
    kill(new CommandFailure(`${name} could not be started: ${why}`, []));
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const onAbort = (): void => {
    const reason: unknown = options.signal?.reason;
    kill(new TaskError(`${name} was stopped: ${reason instanceof Error ? reason.message : 'the task was aborted'}`));
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const idleMs = options.idleMs;
  if (idleMs !== undefined) {
    idleTimer = setTimeout(() => kill(new TaskError(`${name} made no progress (read nothing, wrote nothing) for ${idleMs / 1000} s (--task-timeout); killed`)), idleMs);
  }
  const active = (): void => {
    idleTimer?.refresh();
  };

  child.stdin.on('error', () => {});
  let taken = 0;
  const meter = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      yield chunk;
      taken += chunk.length;
      active();
      options.onInput?.(taken);
    }
  };
  const fed = pipeline(options.input, meter, child.stdin).catch((error: NodeJS.ErrnoException) => {
    if (failure === undefined && !CLOSED_EARLY.has(error.code ?? '')) kill(error);
  });

  const lines = split2();
  lines.on('data', (line: string) => {
    active();
    let handed: void | Promise<void>;
    try {
      handed = options.onLine(line);
    } catch (error) {
      kill(error);
      return;
    }
    if (handed !== undefined) {
      lines.pause();
      handed.then(() => lines.resume(), kill);
    }
  });
  // pipeline, not pipe: a kill destroys child.stdout, and that must end the streams after it too.
  const read = pipeline(child.stdout, new WholeLines(options.maxLineBytes, name), lines).catch((error: unknown) => kill(error));

  const logs = split2();
  logs.on('data', (line: string) => {
    active();
    if (reporterLine(line, options.state)) return;
    tail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLog?.(line);
  });
  const logged = pipeline(child.stderr, new WholeLines(STDERR_LINE_BYTES, name, true), logs).catch((error: unknown) => kill(error));

  const { code, signal } = await exited;
  clearTimeout(killTimer);
  clearTimeout(idleTimer);
  options.signal?.removeEventListener('abort', onAbort);
  await Promise.all([fed, read, logged]);
  if (failure !== undefined) {
    if (failure instanceof CommandFailure) throw failure;
    throw new CommandFailure(`${failure.message}${tailText(tail)}`, tail);
  }
  if (signal !== null) throw new CommandFailure(`${name} was killed by ${signal}${tailText(tail)}`, tail);
  if (code !== 0) throw new CommandFailure(`${name} exited with code ${String(code)}${tailText(tail)}`, tail);
}

/** A buffer as a stream of chunks of at most `size` bytes (so a shipped split is fed piece by piece). */
export function bufferChunks(buffer: Buffer, size = 1 << 20): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
    })(),
    { objectMode: false },
  );
}
