/**
 * What a worker tells the driver about a failed task: the one-line report with the first frame in
 * the user's module (`… : Cannot read properties of undefined (at my-job.ts:6:21)`), and the E frame
 * with the full stack and the stage that failed, so a throwing `setup` fails the run once instead of
 * being retried on every task.
 */
import { TaskError } from '../../errors.ts';
import type { LoadedJobDefinition, LoadedStep } from '../job/define-job.ts';
import { withSteps } from '../job/job-steps.ts';
import type { FailureStage, RecordFailure } from '../shuffle/task-protocol.ts';
import { TaskFailure } from './task-failure.ts';
import { readableStack, stackOf, userFrame } from './user-stack.ts';

/** What a job's `setup` threw, marked so the failure report can tell setup from records. */
export class SetupThrew extends Error {
  constructor(readonly thrown: unknown) {
    super(thrown instanceof Error ? thrown.message : String(thrown), { cause: thrown });
    this.name = thrown instanceof Error ? thrown.name : 'Error';
    const stack = stackOf(thrown);
    if (stack !== undefined) this.stack = stack;
  }
}

/** A hook that marks what it throws as SetupThrew. */
function guarded<A extends unknown[], R>(hook: ((...args: A) => R | Promise<R>) | undefined): ((...args: A) => Promise<R>) | undefined {
  if (hook === undefined) return undefined;
  return async (...args: A): Promise<R> => {
    try {
      return await hook(...args);
    } catch (error) {
      throw new SetupThrew(error);
    }
  };
}

/** The job with every step's `setup`, `mapSetup` and `reduceSetup` marking what they throw (see SetupThrew). */
export function guardSetup(definition: LoadedJobDefinition): LoadedJobDefinition {
  return withSteps(definition, (step): LoadedStep => {
    const setup = guarded(step.setup);
    const mapSetup = guarded(step.mapSetup);
    const reduceSetup = guarded(step.reduceSetup);
    return { ...step, ...(setup ? { setup } : {}), ...(mapSetup ? { mapSetup } : {}), ...(reduceSetup ? { reduceSetup } : {}) };
  });
}

/** What the user's code threw, under gmr's wrapping. */
function userError(error: unknown): unknown {
  let e = error instanceof TaskFailure ? (error.cause ?? error) : error;
  if (e instanceof SetupThrew) e = e.thrown;
  return e;
}

export interface FailureReport {
  /** The error to fail the Gearman job with: its message is the one-line report. */
  error: unknown;
  /** The E frame's content: where, the stage, the first user frame and the stack. */
  failure: RecordFailure;
}

/**
 * The report of a task failure: the message gains ` (at my-job.ts:6:21)` when the stack passes
 * through one of `modules` (the job's module files).
 */
export function reportFailure(error: unknown, modules: readonly string[], where: { path: string }): FailureReport {
  const thrown = userError(error);
  const stage: FailureStage =
    error instanceof TaskFailure && error.cause instanceof SetupThrew ? 'setup' : error instanceof TaskFailure && error.recordOffset !== undefined ? 'record' : 'task';
  const at = userFrame(stackOf(thrown), modules);
  const stack = readableStack(stackOf(thrown));
  const message = error instanceof Error ? error.message : String(error);
  const text = at === undefined || message.includes(`(at ${at})`) ? message : `${message} (at ${at})`;
  const failure: RecordFailure = {
    path: error instanceof TaskFailure ? (error.path ?? where.path) : where.path,
    line: error instanceof TaskFailure ? (error.line ?? 0) : 0,
    offset: error instanceof TaskFailure ? (error.recordOffset ?? -1) : -1,
    message: thrown instanceof Error ? thrown.message : String(thrown),
    stage,
    ...(at === undefined ? {} : { at }),
    ...(stack === undefined ? {} : { stack }),
  };
  if (text === message) return { error, failure };
  return { error: error instanceof TaskFailure ? error.withMessage(text) : new TaskError(text, { cause: error }), failure };
}
