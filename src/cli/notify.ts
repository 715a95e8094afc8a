/**
 * End-of-run notification: `--notify URL` POSTs the JSON summary (Hadoop's job end-notification
 * URL) with a bounded retry, `--on-exit CMD` runs a shell command with the summary on stdin.
 * Neither changes the run's exit code: a failure is reported on stderr and the output stays.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.ts';

export interface NotifyOptions {
  /** Tries in all (default 3); a 4xx answer other than 408/429 is not tried again. */
  attempts?: number;
  /** Wait before the second try, doubled after each (default 1000 ms). */
  delayMs?: number;
  /** Per try (default 10 s). */
  timeoutMs?: number;
  onLog?: (line: string) => void;
}

export interface NotifyResult {
  ok: boolean;
  tries: number;
  /** The last HTTP status, when there was an answer. */
  status?: number;
  error?: string;
}

/** Checks a --notify URL before the run starts, so a typo is a usage error, not a lost message. */
export function parseNotifyUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--notify expects an http:// or https:// URL, received "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--notify expects an http:// or https:// URL, received "${text}" (protocol ${url.protocol})`);
  }
  return url;
}

function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** POSTs `body` (JSON) to `url`; never throws. */
export async function postSummary(url: URL, body: string, options: NotifyOptions = {}): Promise<NotifyResult> {
  const attempts = options.attempts ?? 3;
  let delay = options.delayMs ?? 1000;
  let last: NotifyResult = { ok: false, tries: 0 };
  for (let tries = 1; tries <= attempts; tries++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'gmr' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, tries, status: response.status };
      last = { ok: false, tries, status: response.status, error: `HTTP ${response.status} ${response.statusText}`.trim() };
      if (!retryable(response.status)) break;
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      last = { ok: false, tries, error: cause?.message ?? (error as Error).message };
    }
    if (tries < attempts) {
      options.onLog?.(`--notify ${url.href}: try ${tries} of ${attempts} failed (${last.error}); trying again in ${delay} ms`);
      await sleep(delay);
      delay *= 2;
    }
  }
  options.onLog?.(`--notify ${url.href}: not delivered after ${last.tries} tr${last.tries === 1 ? 'y' : 'ies'}: ${last.error}`);
  return last;
}

export interface OnExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

/**
 * Runs `command` with /bin/sh, the summary on its stdin, its stdout and stderr on `stderr` (gmr's
 * stdout may carry the result); env GMR_EXIT_CODE and GMR_OUTCOME tell the outcome. Never throws.
 */
export async function runOnExit(
  command: string,
  body: string,
  context: { exitCode: number; outcome: string; stderr: NodeJS.WritableStream; timeoutMs?: number; onLog?: (line: string) => void },
): Promise<OnExitResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GMR_EXIT_CODE: String(context.exitCode), GMR_OUTCOME: context.outcome },
    });
    const forward = (chunk: Buffer): void => {
      context.stderr.write(chunk);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.stdin.on('error', () => {}); // a command that does not read its stdin is fine
    child.stdin.end(body);
    const timer = setTimeout(() => child.kill('SIGKILL'), context.timeoutMs ?? 300_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      context.onLog?.(`--on-exit "${command}" did not start: ${error.message}`);
      resolve({ code: null, signal: null, error: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) context.onLog?.(`--on-exit "${command}" ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; the run's exit code stays ${context.exitCode}`);
      resolve({ code, signal });
    });
  });
}

export interface EndNotifier {
  /** Sends the run's JSON summary where --notify and --on-exit say; resolves when both are done. */
  (summary: unknown, exitCode: number): Promise<void>;
}

/** Validates --notify/--on-exit up front and returns what to call when the run has ended. */
export function endNotifier(
  flags: { notify?: string | undefined; onExit?: string | undefined },
  io: { stderr: NodeJS.WritableStream },
  options: NotifyOptions = {},
): EndNotifier {
  const url = flags.notify === undefined ? undefined : parseNotifyUrl(flags.notify);
  const command = flags.onExit;
  if (command !== undefined && command.trim() === '') throw new UsageError('--on-exit expects a shell command, received ""');
  const onLog = (line: string): void => {
    io.stderr.write(`gmr: ${line}\n`);
  };
  return async (summary, exitCode) => {
    const body = `${JSON.stringify(summary)}\n`;
    const outcome = exitCode === 0 ? 'committed' : 'failed';
    await Promise.all([
      url ? postSummary(url, body, { onLog, ...options }) : undefined,
      command ? runOnExit(command, body, { exitCode, outcome, stderr: io.stderr, onLog }) : undefined,
    ]);
  };
}
