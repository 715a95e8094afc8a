/**
 * A run's state as a reader sees it: the driver's status file, with the job servers' live view of
 * the tasks in flight (GET_STATUS_UNIQUE: numerator/denominator that workers send in WORK_STATUS),
 * and the verdict on a driver that stopped writing (killed: "abandoned", and how to resume).
 */
import { hostname } from 'node:os';
import { Client } from '../../client/client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import type { PhaseCounts, RunStatus, RunningTask } from './run-status.ts';

export type RunOutcome = 'running' | 'committed' | 'failed' | 'abandoned';

/** What a job server said about one task in flight. */
export interface LiveTask {
  phase: 'map' | 'reduce';
  index: number;
  unique: string;
  /** The server knows the job (queued or running). */
  known: boolean;
  running: boolean;
  numerator: number;
  denominator: number;
}

export interface WatchedRun {
  status: RunStatus;
  outcome: RunOutcome;
  /** Map input bytes done (of finished tasks and as the workers last reported for running ones). */
  bytesDone: number;
  bytesTotal: number;
  tasksDone: number;
  tasksTotal: number;
  attempts: number;
  /** Bytes per second of map input since the start; 0 when unknown. */
  rate: number;
  /** Estimated milliseconds to the end of the map phase; null when unknown. */
  etaMs: number | null;
  elapsedMs: number;
  live: LiveTask[];
  /** Why the live part is missing (servers down, none known). */
  liveError: string | null;
  /** For an abandoned run: the command that finishes it. */
  resume: string | null;
}

/** A driver on another host is taken for dead when its file is older than this. */
export const STALE_AFTER_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the driver of a running status is gone (killed, or its host stopped writing). */
export function driverGone(status: RunStatus, now = Date.now()): boolean {
  if (status.state !== 'running') return false;
  if (status.driver.host === hostname()) return !pidAlive(status.driver.pid);
  return now - Date.parse(status.updatedAt) > STALE_AFTER_MS;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function resumeCommand(status: RunStatus): string | null {
  if (!status.output) return null;
  const command = status.command ?? ['gmr', 'run', status.job, '--input', '…', '--output', status.output];
  const args = command.filter((a) => a !== '--resume');
  return [...args, '--resume'].map(quote).join(' ');
}

function sum(counts: PhaseCounts[], key: keyof PhaseCounts): number {
  return counts.reduce((n, c) => n + c[key], 0);
}

/** Asks the job servers about the tasks in flight; never throws (the error is returned instead). */
export async function askServers(
  servers: string[],
  running: RunningTask[],
  timeoutMs = 3000,
  tls?: TlsOptions,
): Promise<{ live: LiveTask[]; error: string | null }> {
  if (running.length === 0) return { live: [], error: null };
  if (servers.length === 0) return { live: [], error: 'no job servers known' };
  const client = new Client({ servers, connectTimeoutMs: timeoutMs, ...(tls ? { tls } : {}) });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from ${servers.join(',')} within ${timeoutMs} ms`)), timeoutMs);
    });
    const replies = await Promise.race([Promise.all(running.map((t) => client.getStatusUnique(t.unique))), timeout]);
    return {
      live: replies.map((r, i) => {
        const task = running[i] as RunningTask;
        return { phase: task.phase, index: task.index, unique: r.unique, known: r.known, running: r.running, numerator: r.numerator, denominator: r.denominator };
      }),
      error: null,
    };
  } catch (error) {
    return { live: [], error: `job servers: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => {});
  }
}

/** The status file plus the servers' view, as `gmr status` and the dashboard show it. */
export async function watchRun(
  status: RunStatus,
  options: { servers?: string[]; now?: number; tls?: TlsOptions } = {},
): Promise<WatchedRun> {
  const now = options.now ?? Date.now();
  const gone = driverGone(status, now);
  const outcome: RunOutcome = status.state === 'running' ? (gone ? 'abandoned' : 'running') : status.state;
  const servers = options.servers && options.servers.length > 0 ? options.servers : status.servers;
  const asked = outcome === 'running' ? await askServers(servers, status.running, 3000, options.tls) : { live: [], error: null };
  const maps = status.steps.map((s) => s.map);
  const reduces = status.steps.map((s) => s.reduce);
  // Bytes come from the file (the driver hears the same WORK_STATUS): the servers forget a task
  // the moment it ends, so folding their numbers in would make the total step back.
  const bytesDone = sum(maps, 'bytesDone');
  const bytesTotal = sum(maps, 'bytesTotal');
  const end = status.finishedAt ? Date.parse(status.finishedAt) : gone ? Date.parse(status.updatedAt) : now;
  const elapsedMs = Math.max(0, end - Date.parse(status.startedAt));
  const rate = elapsedMs > 0 ? (bytesDone * 1000) / elapsedMs : 0;
  const etaMs = outcome === 'running' && rate > 0 && bytesDone < bytesTotal ? ((bytesTotal - bytesDone) / rate) * 1000 : null;
  return {
    status,
    outcome,
    bytesDone,
    bytesTotal,
    tasksDone: sum(maps, 'done') + sum(reduces, 'done'),
    tasksTotal: sum(maps, 'total') + sum(reduces, 'total'),
    attempts: sum(maps, 'attempts') + sum(reduces, 'attempts'),
    rate,
    etaMs,
    elapsedMs,
    live: asked.live,
    liveError: asked.error,
    resume: outcome === 'abandoned' ? resumeCommand(status) : null,
  };
}

