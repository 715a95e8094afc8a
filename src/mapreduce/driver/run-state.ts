/**
 * What makes a run resumable (`gmr run … --output DIR --resume`): the run folder
 * `DIR/_temporary/<run>` holds `run.json` (the plan: job, inputs, params, split size, reducers)
 * and, in each finished map task's folder, `_DONE` (its summary and attempts) written after its
 * result files were complete. A driver killed mid-run leaves exactly that behind.
 */
import type { Params } from '../job/params.ts';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { partIndex, TASK_KEYS_NAME, TASK_OUTPUT_NAME } from './part-names.ts';
import { KEYS_FILE, OUTPUT_FILE, type TaskAttempt, type TaskRecord } from './task-runner.ts';
import { describeChange, type InputIdentity } from './input-identity.ts';

export interface RunPlan {
  version: 1;
  runId: string;
  /** How many times this run was resumed; part of the task unique keys of each driver. */
  resumes: number;
  job: string;
  inputs: InputIdentity[];
  params: Params;
  splitSize: number;
  reducers: number;
  /** Reduce tasks of each step of a job of several steps (0: a map-only step); absent before steps. */
  stepReducers?: number[];
  ship: boolean;
  startedAt: string;
}

export async function writePlan(runDir: string, plan: RunPlan): Promise<void> {
  await writeFile(join(runDir, 'run.json'), `${JSON.stringify(plan, null, 2)}\n`);
}

/** Same job, params and input paths: the run the user means to resume (its inputs may have changed since). */
function samePlan(a: RunPlan, b: Pick<RunPlan, 'job' | 'inputs' | 'params'>): boolean {
  return (
    a.job === b.job &&
    JSON.stringify(a.inputs.map((i) => i.path)) === JSON.stringify(b.inputs.map((i) => i.path)) &&
    JSON.stringify(a.params) === JSON.stringify(b.params)
  );
}

/** The inputs of a plan that are not the files they were (input-identity.ts), with what changed. */
export function changedSincePlan(plan: RunPlan, now: readonly InputIdentity[]): Array<{ path: string; change: string }> {
  const byPath = new Map(now.map((i) => [i.path, i]));
  const changed: Array<{ path: string; change: string }> = [];
  for (const was of plan.inputs) {
    const change = describeChange(was, byPath.get(was.path));
    if (change !== '') changed.push({ path: was.path, change });
  }
  return changed;
}

/** The newest unfinished run in DIR/_temporary with the same job, input paths and params. */
export async function findResumable(
  outputDir: string,
  want: Pick<RunPlan, 'job' | 'inputs' | 'params'>,
): Promise<RunPlan | undefined> {
  const base = join(outputDir, '_temporary');
  let best: { plan: RunPlan; mtime: number } | undefined;
  for (const entry of await readdir(base).catch(() => [] as string[])) {
    const path = join(base, entry, 'run.json');
    try {
      const plan = JSON.parse(await readFile(path, 'utf8')) as RunPlan;
      const mtime = (await stat(path)).mtimeMs;
      if (plan.version === 1 && samePlan(plan, want) && (!best || mtime > best.mtime)) best = { plan, mtime };
    } catch {
      // not a run folder
    }
  }
  return best?.plan;
}

export async function markTaskDone(taskDir: string, record: TaskRecord): Promise<void> {
  await writeFile(join(taskDir, '_DONE'), JSON.stringify({ summary: record.summary, attempts: record.attempts }));
}

/** Fills a task record from a finished task's folder; false when the task did not finish. */
export async function loadDoneTask(taskDir: string, record: TaskRecord): Promise<boolean> {
  let done: { summary: Record<string, unknown>; attempts: TaskAttempt[] };
  try {
    done = JSON.parse(await readFile(join(taskDir, '_DONE'), 'utf8')) as typeof done;
  } catch {
    return false;
  }
  record.summary = done.summary;
  record.attempts = done.attempts;
  record.state = 'done';
  record.bytesDone = record.bytesTotal;
  for (const name of await readdir(taskDir)) {
    const partition = partIndex(name);
    if (partition !== undefined) record.files.set(partition, join(taskDir, name));
    else if (name === TASK_OUTPUT_NAME) record.files.set(OUTPUT_FILE, join(taskDir, name));
    else if (name === TASK_KEYS_NAME) record.files.set(KEYS_FILE, join(taskDir, name));
  }
  return true;
}
