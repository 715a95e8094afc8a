/**
 * Keeps the run status file (`<run folder>/status.json`) up to date while the driver runs: task
 * counts, bytes, attempts, tasks in flight with their unique keys, the latest messages, and a
 * heartbeat; at the end the outcome, also kept in `<output>/_history/`.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  MAX_MESSAGES,
  STATUS_FILE,
  writeHistory,
  writeStatusFile,
  type NoWorker,
  type PhaseCounts,
  type RunStatus,
  type RunningTask,
  type StatusMessage,
} from '../status/run-status.ts';
import { phaseProgress } from './run-progress.ts';
import type { TaskRecord } from './task-runner.ts';

export interface TrackedStep {
  map: TaskRecord[];
  reduce: TaskRecord[];
}

export interface StatusTrackerOptions {
  job: string;
  runId: string;
  output: string | null;
  runDir: string;
  servers: string[];
  startedAt: string;
  command: string[] | null;
  /** The records of every step, read at each write. */
  steps: () => TrackedStep[];
  /** Writes at most this often on progress (transitions are written at once). */
  intervalMs?: number;
  /** Rewritten at least this often, so a reader on another host can tell a live driver. */
  heartbeatMs?: number;
  /** Each version as it is written. */
  onWrite?: (status: RunStatus) => void;
}

/** phaseProgress's counts, and the attempts started. */
function counts(records: TaskRecord[]): PhaseCounts {
  let attempts = 0;
  for (const r of records) {
    // A restart (the job server ran the attempt again after its worker died) counts as an attempt.
    attempts += r.attempts.reduce((n, a) => n + 1 + (a.restarts ?? 0), 0) + (r.state === 'running' ? 1 : 0);
  }
  return { ...phaseProgress(records), attempts };
}

function messagesOf(steps: TrackedStep[]): StatusMessage[] {
  const found: Array<StatusMessage & { ms: number }> = [];
  for (const step of steps) {
    for (const r of [...step.map, ...step.reduce]) {
      const task = `${r.phase} ${r.index}`;
      for (const a of r.attempts) {
        const at = new Date(a.startedAt + a.ms).toISOString();
        if (a.restarts) found.push({ ms: a.startedAt + a.ms, at, task, text: `attempt ${a.attempt}: run ${a.restarts + 1} times (a worker died or went away; the job server gave it to another)` });
        if (a.error) found.push({ ms: a.startedAt + a.ms, at, task, text: `attempt ${a.attempt}: ${a.error}` });
      }
      const said = r.summary?.['status'];
      const last = r.attempts[r.attempts.length - 1];
      if (typeof said === 'string' && last) {
        const ms = last.startedAt + last.ms;
        found.push({ ms, at: new Date(ms).toISOString(), task, text: said });
      } else if (r.state === 'running' && r.status !== undefined && r.statusAt !== undefined) {
        // A task still running: its latest ctx.status, as its worker sent it (S frames).
        found.push({ ms: r.statusAt, at: new Date(r.statusAt).toISOString(), task, text: r.status });
      }
    }
  }
  found.sort((a, b) => a.ms - b.ms);
  return found.slice(-MAX_MESSAGES).map(({ at, task, text }) => ({ at, task, text }));
}

export class StatusTracker {
  readonly path: string;
  readonly #options: StatusTrackerOptions;
  #status: RunStatus;
  #writing: Promise<void> = Promise.resolve();
  #lastWrite = 0;
  #pending: NodeJS.Timeout | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  #ended = false;

  constructor(options: StatusTrackerOptions) {
    this.#options = options;
    this.path = join(options.runDir, STATUS_FILE);
    const now = new Date().toISOString();
    this.#status = {
      version: 1,
      job: options.job,
      runId: options.runId,
      output: options.output,
      runDir: options.runDir,
      driver: { pid: process.pid, host: hostname() },
      servers: options.servers,
      state: 'running',
      step: 0,
      phase: 'plan',
      steps: [],
      running: [],
      messages: [],
      startedAt: options.startedAt,
      updatedAt: now,
      finishedAt: null,
      exitCode: null,
      error: null,
      counters: {},
      command: options.command,
    };
    this.#heartbeat = setInterval(() => this.#write(), options.heartbeatMs ?? 2000);
    this.#heartbeat.unref();
  }

  get status(): RunStatus {
    return this.#status;
  }

  /** The job servers the tasks go to (known once the local cluster is up). */
  setServers(servers: string[]): void {
    this.#status = { ...this.#status, servers };
  }

  /** No worker serves the run's functions (or null: one does again): written at once. */
  noWorker(noWorker: NoWorker | null): void {
    this.#status = { ...this.#status, noWorker };
    void this.#write();
  }

  /**
   * A new step or phase: the write starts at once, queued behind the ones before it; the run does
   * not wait for it (nothing it does next reads the file; issue 15, a small run's critical path).
   * finish() waits for every write, so the final status is on disk after them all.
   */
  phase(step: number, phase: RunStatus['phase']): void {
    this.#status = { ...this.#status, step, phase };
    void this.#write();
  }

  /** Progress of some task: written within intervalMs. */
  progress(): void {
    if (this.#ended || this.#pending) return;
    const wait = Math.max(0, (this.#options.intervalMs ?? 500) - (Date.now() - this.#lastWrite));
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      void this.#write();
    }, wait);
    this.#pending.unref();
  }

  /** The outcome: the file is written a last time and, with --output, kept in `_history/`. */
  async finish(end: { state: 'committed' | 'failed'; exitCode: number; error?: string; counters?: Record<string, number> }): Promise<RunStatus> {
    this.#ended = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pending);
    this.#status = {
      ...this.#snapshot(),
      state: end.state,
      phase: end.state === 'committed' ? 'done' : this.#status.phase,
      running: [],
      finishedAt: new Date().toISOString(),
      exitCode: end.exitCode,
      error: end.error ?? null,
      counters: end.counters ?? {},
    };
    const final = this.#status;
    this.#options.onWrite?.(final);
    // The run folder's copy (after every earlier write) and the history's are written side by side;
    // both are on disk when this returns (#chain never rejects: a failed status write fails no run).
    const written = this.#chain(() => writeStatusFile(this.path, final));
    try {
      if (this.#options.output) await writeHistory(this.#options.output, final);
    } finally {
      await written;
    }
    return final;
  }

  /** Stops the heartbeat without an outcome (the run folder is about to go). Idempotent. */
  close(): void {
    this.#ended = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pending);
  }

  #snapshot(): RunStatus {
    const steps = this.#options.steps();
    const running: RunningTask[] = [];
    steps.forEach((step, s) => {
      for (const r of [...step.map, ...step.reduce]) {
        if (r.state === 'running' && r.unique) {
          running.push({
            step: s,
            phase: r.phase,
            index: r.index,
            attempt: r.attempts.length + 1,
            unique: r.unique,
            ...(r.input ? { input: r.input } : {}),
            bytesDone: r.bytesDone,
            ...(r.status !== undefined && r.statusAt !== undefined ? { status: r.status, statusAt: new Date(r.statusAt).toISOString() } : {}),
          });
        }
      }
    });
    return {
      ...this.#status,
      steps: steps.map((step, index) => ({ index, map: counts(step.map), reduce: counts(step.reduce) })),
      running,
      messages: messagesOf(steps),
      updatedAt: new Date().toISOString(),
    };
  }

  #write(): Promise<void> {
    if (this.#ended) return this.#writing;
    this.#lastWrite = Date.now();
    this.#status = this.#snapshot();
    const status = this.#status;
    this.#options.onWrite?.(status);
    return this.#chain(() => writeStatusFile(this.path, status));
  }

  #chain(write: () => Promise<void>): Promise<void> {
    // One write at a time; a failed write (a full disk) must not fail the run, only the status.
    this.#writing = this.#writing.then(write).catch(() => {});
    return this.#writing;
  }
}
