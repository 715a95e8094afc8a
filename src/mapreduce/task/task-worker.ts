/**
 * The task runtime that `gmr worker` runs: registers `gmr.map.<job>` and `gmr.reduce.<job>` for
 * the job modules it was started with, and runs map and reduce tasks from their payloads
 * (map-runner.ts, reduce-runner.ts). Nothing
 * in a payload is ever executed as code: the payload only names a split, params and runs, and with
 * a run secret (the default) only payloads the driver signed are run at all. What a task may read
 * is confined (input-guard.ts) and bounded (line length, inflated size).
 */
import { TaskError } from '../../errors.ts';
import { Worker, type WorkerOptions } from '../../worker/worker.ts';
import { stepReduces } from '../job/job-steps.ts';
import { loadJob } from '../job/load-job.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { mapFunctionName, moduleFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';
import { guardSetup } from './failure-report.ts';
import { DEFAULT_LIMITS, InputGuard, type TaskLimits } from './input-guard.ts';
import { runMap } from './map-runner.ts';
import { runReduce } from './reduce-runner.ts';
import type { StreamingWorkerOptions } from './streaming-worker.ts';
import type { JobCode, TaskContext } from './task-attempt.ts';
import { TaskChannel } from './task-channel.ts';

export interface TaskWorkerOptions extends WorkerOptions {
  /** Built-in job names or paths to job modules. */
  jobs: string[];
  cwd?: string;
  /** Which task kinds to serve (default both): a worker may serve only map or only reduce tasks. */
  phases?: Array<'map' | 'reduce'>;
  /** The run secret: tasks must be signed with it and results are. Undefined only with `insecure`. */
  secret?: RunSecret;
  /** Accept unsigned tasks and send unsigned results (trusted single-user set-ups only). */
  insecure?: boolean;
  /** Folders (or files) map tasks may read below, after resolving symlinks. Default: [cwd]. */
  inputRoots?: string[];
  limits?: Partial<TaskLimits>;
  /** Serve streaming tasks of this spec too (streaming-worker.ts): the only commands the worker runs. */
  streaming?: Omit<StreamingWorkerOptions, 'phases' | 'cwd' | 'secret' | 'openInput' | 'limits'>;
}

export interface TaskWorker {
  worker: Worker;
  /** Job names this worker serves (function names are gmr.map.<name> and gmr.reduce.<name>). */
  names: string[];
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Loads the job modules, registers their functions and starts serving tasks. */
export async function startTaskWorker(options: TaskWorkerOptions): Promise<TaskWorker> {
  const { jobs, cwd, phases = ['map', 'reduce'], secret, insecure, inputRoots, limits, streaming, ...workerOptions } = options;
  if (jobs.length === 0 && streaming === undefined) throw new TaskError('A task worker needs at least one job (--jobs wordcount,./my-job.ts) or --streaming commands');
  if (!secret && insecure !== true) {
    throw new TaskError('A task worker needs the run secret (--secret-file FILE or GMR_SECRET), or --insecure to run unsigned tasks');
  }
  const context: TaskContext = {
    secret: insecure === true ? undefined : secret,
    guard: await InputGuard.create(inputRoots ?? [cwd ?? process.cwd()], cwd),
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
  // (Source maps of user modules: import-module.ts turns them on before the first one loads.)
  const loaded = await Promise.all(jobs.map((j) => loadJob(j, cwd)));
  // The driver's Client always asks for exceptions, so the failure report travels as WORK_EXCEPTION text.
  const worker = new Worker({
    failWith: 'WORK_EXCEPTION',
    failureData: (wjob, error) => (TaskChannel.of(wjob) ?? new TaskChannel(wjob, context.secret)).failure(error.message),
    ...workerOptions,
  });
  for (const job of loaded) {
    const code: JobCode = { definition: guardSetup(job.definition), modules: [job.source], loaded: job };
    const marker = moduleFunctionName(job.name, job.sha256);
    worker.register(marker, () => {
      throw new TaskError(`${marker} only marks which module this worker serves`);
    });
    if (phases.includes('map')) worker.register(mapFunctionName(job.name), (wjob) => runMap(code, wjob, context));
    if (code.definition.steps.some(stepReduces) && phases.includes('reduce')) {
      worker.register(reduceFunctionName(job.name), (wjob) => runReduce(code, wjob, context));
    }
  }
  const names = loaded.map((j) => j.name);
  if (streaming !== undefined) {
    // Loaded only by a streaming worker: the others do not pay for child processes and split2 (issue 15, start-up).
    const { registerStreaming } = await import('./streaming-worker.ts');
    const trust = { ...(context.secret ? { secret: context.secret } : {}), openInput: context.guard.openInput, limits: context.limits };
    names.push(registerStreaming(worker, { ...streaming, phases, ...trust, ...(cwd === undefined ? {} : { cwd }) }));
  }
  await worker.start();
  return {
    worker,
    names,
    close: (closeOptions) => worker.close(closeOptions),
  };
}
