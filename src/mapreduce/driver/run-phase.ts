/**
 * runPhase: runs one phase of a run, described by data (its Gearman function, its task records,
 * how to build each task), through the run's shared pieces (client, fan-out limit, abort signal).
 * The map and the reduce phase are two descriptions run by this one loop.
 */
import type { LimitFunction } from 'p-limit';
import type { Client } from '../../client/client.ts';
import { TASK_OUTPUT_NAME } from './part-names.ts';
import { loadDoneTask, markTaskDone } from './run-state.ts';
import type { RunLogs } from './run-logs.ts';
import type { RunWorkspace } from './run-workspace.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import type { PayloadBuilder } from './task-plan.ts';
import type { BadRecordBudget } from './bad-records.ts';
import { runTask, type TaskRecord } from './task-runner.ts';

/** One task as it is about to be submitted. */
export interface PhaseTask {
  unique: string;
  /** Builds each attempt's payload (task-plan.ts). */
  payload: PayloadBuilder;
}

/** A phase as data: what runs, on which records, and how each task is built. */
export interface Phase {
  kind: 'map' | 'reduce';
  /** The job's step this phase belongs to (0-based). */
  step: number;
  /** The Gearman function its tasks are submitted to. */
  fn: string;
  /** One record per task; runPhase fills them in (state, attempts, result files). */
  records: TaskRecord[];
  /** Builds task `index` when a slot is free (so only tasks in flight hold their payloads). */
  task(index: number): Promise<PhaseTask>;
  /** Tasks of a resumed run that finished before are not run again; finished ones are marked. */
  resumable: boolean;
  badRecords?: BadRecordBudget;
}

/** What the phases of one run share. */
export interface PhaseRunner {
  client: Client;
  workspace: RunWorkspace;
  /** Bounds the tasks in flight across the run. */
  fanOut: LimitFunction;
  maxAttempts: number;
  /** Attempts a task may lose to dead workers (not its own failures). */
  maxLostAttempts: number;
  /** Results must carry its MAC; undefined with --insecure. */
  secret: RunSecret | undefined;
  timeoutMs?: number;
  /** Aborted when the run fails: tasks in flight give up, pending ones do not start. */
  signal: AbortSignal;
  /** Fails the run: the first task that fails for good aborts all others. */
  abort(reason: unknown): void;
  /** Rejects when the run cannot go on whatever the tasks do (every local worker died). */
  guard: Promise<never>;
  onStatus(): void;
  /** A warning for the user (a result that did not verify), one line. */
  onWarning?: (line: string) => void;
  /** Where task attempts' logs go. */
  logs?: RunLogs;
}

export interface PhaseOutcome {
  /** Tasks a resumed run found finished and did not run again. */
  resumed: number;
}

/** Runs every task of the phase to success, or rejects with the first task that failed for good. */
export async function runPhase(runner: PhaseRunner, phase: Phase): Promise<PhaseOutcome> {
  const { workspace } = runner;
  let resumed = 0;
  const runOne = async (record: TaskRecord, index: number): Promise<void> => {
    if (runner.signal.aborted) throw runner.signal.reason;
    const dir = workspace.taskFolder(phase.kind, index, phase.step);
    if (phase.resumable && workspace.resumed && (await loadDoneTask(dir, record))) {
      resumed++;
      runner.onStatus();
      return;
    }
    const task = await phase.task(index);
    try {
      await runTask({
        client: runner.client,
        fn: phase.fn,
        unique: task.unique,
        payload: task.payload,
        ...(phase.badRecords ? { badRecords: phase.badRecords } : {}),
        record,
        dir,
        outputName: TASK_OUTPUT_NAME,
        maxAttempts: runner.maxAttempts,
        maxLostAttempts: runner.maxLostAttempts,
        secret: runner.secret,
        ...(runner.timeoutMs === undefined ? {} : { timeoutMs: runner.timeoutMs }),
        signal: runner.signal,
        onStatus: runner.onStatus,
        ...(runner.onWarning ? { onWarning: runner.onWarning } : {}),
        step: phase.step,
        ...(runner.logs ? { logs: runner.logs } : {}),
      });
    } catch (error) {
      runner.abort(error);
      throw error;
    }
    if (phase.resumable && workspace.persistent) await markTaskDone(dir, record);
  };
  await Promise.race([runner.guard, Promise.all(phase.records.map((record, i) => runner.fanOut(() => runOne(record, i))))]);
  return { resumed };
}

/** A record for each task of a phase, all pending; `input` names a map task's split. */
export function taskRecords(kind: 'map' | 'reduce', tasks: ReadonlyArray<{ input?: string; bytes: number }>): TaskRecord[] {
  return tasks.map((t, index) => ({
    phase: kind,
    index,
    ...(t.input === undefined ? {} : { input: t.input }),
    attempts: [],
    files: new Map(),
    bytesDone: 0,
    bytesTotal: t.bytes,
    state: 'pending',
  }));
}
