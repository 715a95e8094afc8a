/**
 * The run status file: what a driver tells other shells about its run, rewritten atomically as the
 * run goes (`<run folder>/status.json`) and kept, once the run has ended, in `<output>/_history/`.
 * Readers (`gmr status`, the dashboard) combine it with the job servers' live GET_STATUS_UNIQUE.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STATUS_FILE = 'status.json';
export const HISTORY_FOLDER = '_history';

/** Task counts by state and bytes of one phase of one step (what `onProgress` receives per phase). */
export interface PhaseProgress {
  total: number;
  done: number;
  running: number;
  failed: number;
  bytesDone: number;
  bytesTotal: number;
}

/** PhaseProgress as the status file keeps it, with the attempts. */
export interface PhaseCounts extends PhaseProgress {
  /** Attempts started so far (a task that ran once counts 1). */
  attempts: number;
}

export interface StepStatus {
  /** 0-based; a job of several steps lists each (step N+1 reads step N's pairs). */
  index: number;
  map: PhaseCounts;
  reduce: PhaseCounts;
}

/** A task in flight, with the unique key its current attempt was submitted under. */
export interface RunningTask {
  step: number;
  phase: 'map' | 'reduce';
  index: number;
  attempt: number;
  unique: string;
  input?: string;
  /** Bytes done as of this write (the servers' numerator may be ahead). */
  bytesDone: number;
  /** The attempt's latest ctx.status(text), and when it came. */
  status?: string;
  statusAt?: string;
}

/** With job servers of the user's: no worker serves the run's functions since `since`. */
export interface NoWorker {
  since: string;
  functions: string[];
  /** The run fails this long after `since` (--no-worker-timeout). */
  timeoutMs: number;
}

export interface StatusMessage {
  at: string;
  /** `map 3`, `reduce 0`, or `run`. */
  task: string;
  text: string;
}

export type RunState = 'running' | 'committed' | 'failed';

export interface RunStatus {
  version: 1;
  job: string;
  runId: string;
  output: string | null;
  /** Where the run folder is (resume and this file live there while the run goes). */
  runDir: string;
  driver: { pid: number; host: string };
  servers: string[];
  state: RunState;
  /** The current step (0-based) and its phase. */
  step: number;
  phase: 'plan' | 'map' | 'reduce' | 'commit' | 'done';
  steps: StepStatus[];
  running: RunningTask[];
  /** The latest task status messages and attempt errors, newest last (at most MAX_MESSAGES). */
  messages: StatusMessage[];
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** The exit code `gmr run` ended (or ends) with; null while running. */
  exitCode: number | null;
  /** The failure report of a failed run. */
  error: string | null;
  counters: Record<string, number>;
  /** How the run was started (so a reader can print the command that resumes it). */
  command: string[] | null;
  /** Set while no worker serves the run's functions (absent in files of older drivers). */
  noWorker?: NoWorker | null;
}

export const MAX_MESSAGES = 10;

export function emptyCounts(): PhaseCounts {
  return { total: 0, done: 0, running: 0, failed: 0, bytesDone: 0, bytesTotal: 0, attempts: 0 };
}

/** The run folder of a run without --output (resume and history need --output). */
export function scratchRunDir(runId: string): string {
  return join(tmpdir(), `gmr-run-${runId}`);
}

/** Writes the file so that a reader sees the old or the new version whole, never half of one. */
export async function writeStatusFile(path: string, status: RunStatus): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(status, null, 2)}\n`);
  await rename(temporary, path);
}

/** Keeps the final status of an ended run in `<output>/_history/<runId>.json`. */
export async function writeHistory(output: string, status: RunStatus): Promise<void> {
  const dir = join(output, HISTORY_FOLDER);
  await mkdir(dir, { recursive: true });
  await writeStatusFile(join(dir, `${status.runId}.json`), status);
}

function isRunStatus(value: unknown): value is RunStatus {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<RunStatus>;
  return v.version === 1 && typeof v.runId === 'string' && typeof v.job === 'string' && Array.isArray(v.steps);
}

/** The status in a file, or undefined when it is missing or not a gmr status file. */
export async function readStatusFile(path: string): Promise<RunStatus | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return isRunStatus(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every run an output folder knows of: live and killed ones (their run folders under
 * `_temporary/`) and ended ones (`_history/`), oldest first by start time. A run that was resumed
 * is listed once, with its newest status.
 */
export async function listRuns(output: string): Promise<RunStatus[]> {
  const byId = new Map<string, RunStatus>();
  const add = (status: RunStatus | undefined): void => {
    if (!status) return;
    const known = byId.get(status.runId);
    if (!known || known.updatedAt <= status.updatedAt) byId.set(status.runId, status);
  };
  const history = join(output, HISTORY_FOLDER);
  for (const name of (await readdir(history).catch(() => [] as string[])).sort()) {
    if (name.endsWith('.json')) add(await readStatusFile(join(history, name)));
  }
  const temporary = join(output, '_temporary');
  for (const name of (await readdir(temporary).catch(() => [] as string[])).sort()) {
    if (!name.startsWith('_')) add(await readStatusFile(join(temporary, name, STATUS_FILE)));
  }
  return [...byId.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}
