/**
 * runSteps: a job's steps in turn, each a map phase and (when the step reduces) a reduce phase.
 * Step 1 maps the input's splits; step N+1 maps the files step N wrote in the run folder, pair
 * records its workers read back as typed `[key, value]` pairs. Every task is resumable: a resumed
 * run skips every task that finished, whatever its step, and goes on at the first one that did not.
 */
import { stat } from 'node:fs/promises';
import type { LoadedJobDefinition, Params } from '../job/define-job.ts';
import { stepReduces } from '../job/job-steps.ts';
import { mapFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';
import type { InputFile } from './input-files.ts';
import type { StreamTaskField } from '../shuffle/streaming-header.ts';
import { runPhase, taskRecords, type Phase, type PhaseRunner } from './run-phase.ts';
import { describeSplit, planSplits, type Split } from './splits.ts';
import { buildMapTasks, buildReduceTask, type TaskSigning } from './task-plan.ts';
import type { BadRecordBudget } from './bad-records.ts';
import { OUTPUT_FILE, type TaskRecord } from './task-runner.ts';

/** What one step did. Times are `Date.now()` values. */
export interface StepRun {
  map: TaskRecord[];
  reduce: TaskRecord[];
  reduces: boolean;
  started: number;
  mapDone: number;
  reduceDone: number;
  /** Tasks a resumed run found finished and did not run again. */
  resumed: { map: number; reduce: number };
}

export interface StepsInput {
  runner: PhaseRunner;
  definition: LoadedJobDefinition;
  /** The job's name (its task functions are gmr.map.<name> and gmr.reduce.<name>). */
  job: string;
  /** The unique-key run id of this driver. */
  runId: string;
  params: Params;
  ship: boolean;
  /** How every step's tasks are signed (the run secret) and which module they name. */
  signing: TaskSigning;
  /** Reduce tasks of each step (0 for a map-only step). */
  reducers: readonly number[];
  splitSize: number;
  workers: number;
  /** The first step's splits (of the run's input). */
  splits: Split[];
  /** A streaming job's commands, sent in every task header. */
  stream?: StreamTaskField;
  /** Bytes of log each task attempt may send (the task headers' logLimit). */
  logLimit?: number;
  /** Only the first step reads user records, so only it has a bad record allowance. */
  badRecords?: BadRecordBudget;
  /** Called when a phase starts, with the step's records so far (for progress). */
  onPhase(step: number, phase: 'map' | 'reduce', run: StepRun): void | Promise<void>;
}

export async function runSteps(input: StepsInput): Promise<StepRun[]> {
  const { definition, runner } = input;
  const runs: StepRun[] = [];
  let splits = input.splits;
  for (let step = 0; step < definition.steps.length; step++) {
    const stepDef = definition.steps[step]!;
    const reduces = stepReduces(stepDef);
    const partitions = input.reducers[step] ?? 0;
    const sortValues = stepDef.sortValues === true;
    const shared = { runId: input.runId, job: input.job, params: input.params, partitions, ship: input.ship, step, sortValues, signing: input.signing, ...(input.stream ? { stream: input.stream } : {}), ...(input.logLimit === undefined ? {} : { logLimit: input.logLimit }) };
    const mapTasks = await buildMapTasks({ ...shared, definition, splits });
    const map: Phase = {
      kind: 'map',
      step,
      fn: mapFunctionName(input.job),
      records: taskRecords('map', splits.map((s) => ({ input: describeSplit(s), bytes: s.length }))),
      task: async (i) => {
        const task = mapTasks[i]!;
        return { unique: task.unique, payload: await task.prepare() };
      },
      resumable: true,
      ...(step === 0 && input.badRecords ? { badRecords: input.badRecords } : {}),
    };
    const reduce: Phase = {
      kind: 'reduce',
      step,
      fn: reduceFunctionName(input.job),
      records: taskRecords('reduce', Array.from({ length: reduces ? partitions : 0 }, () => ({ bytes: 0 }))),
      // A reduce task reads its partition of every map task's results, known once the maps ran.
      task: async (p) => {
        const runFiles = map.records.map((m) => m.files.get(p)).filter((f): f is string => f !== undefined);
        const task = await buildReduceTask({ ...shared, partition: p, runs: runFiles });
        reduce.records[p]!.bytesTotal = task.bytes;
        return task;
      },
      resumable: true,
    };
    const run: StepRun = { map: map.records, reduce: reduce.records, reduces, started: Date.now(), mapDone: 0, reduceDone: 0, resumed: { map: 0, reduce: 0 } };
    runs.push(run);
    await input.onPhase(step, 'map', run);
    run.resumed.map = (await runPhase(runner, map)).resumed;
    run.mapDone = Date.now();
    await input.onPhase(step, 'reduce', run);
    run.resumed.reduce = (await runPhase(runner, reduce)).resumed;
    run.reduceDone = Date.now();
    if (step + 1 < definition.steps.length) {
      splits = planSplits(await outputFiles(reduces ? reduce.records : map.records), { splitSize: input.splitSize, workers: input.workers });
    }
  }
  return runs;
}

/** The output files a step's tasks wrote (a task that emitted nothing wrote none), in task order. */
async function outputFiles(records: readonly TaskRecord[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const r of records) {
    const path = r.files.get(OUTPUT_FILE);
    if (path === undefined) continue;
    const info = await stat(path);
    if (info.size > 0) files.push({ path, size: info.size, mtimeMs: info.mtimeMs, dev: info.dev, ino: info.ino, ctimeMs: info.ctimeMs, compressed: false });
  }
  return files;
}
