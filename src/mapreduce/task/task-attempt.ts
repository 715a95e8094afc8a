/**
 * What every map and reduce attempt of a job module shares: the worker's trust context, the
 * payload check, the B frame before any work, the signed summary after it, and the one failure
 * path (the one-line report and the E frame). Streaming attempts share the check, the B frame
 * and the summary (streaming-worker.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TaskError } from '../../errors.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import type { LoadedJobDefinition } from '../job/define-job.ts';
import { shortHash } from '../job/module-identity.ts';
import { packageVersion } from '../job/package-root.ts';
import type { LoadedJob } from '../job/load-job.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { beginFrame, decodeTask, failureFrame, type TaskHeaderBase } from '../shuffle/task-protocol.ts';
import { reportFailure } from './failure-report.ts';
import type { InputGuard, TaskLimits } from './input-guard.ts';
import type { ReduceTaskSpec } from './reduce-task.ts';
import type { TaskChannel } from './task-channel.ts';
import { guardAttempt } from './uncaught-guard.ts';

/** What every task of one worker shares: its secret, what it may read, its limits. */
export interface TaskContext {
  secret: RunSecret | undefined;
  guard: InputGuard;
  limits: TaskLimits;
}

/** A job as a worker runs it: its definition, the module files whose frames are the user's, its identity. */
export interface JobCode {
  definition: LoadedJobDefinition;
  modules: string[];
  loaded: LoadedJob;
}

/** Who ran a task, for the run's manifest: `host:pid`. */
const WORKER_ID = `${hostname()}:${process.pid}`;

/** The verified header and body of a payload: signed with the secret (unless --insecure), for the unique key the server assigned. */
export function checkedPayload(wjob: WorkerJob, secret: RunSecret | undefined): { header: Record<string, unknown>; body: Buffer } {
  const decoded = decodeTask(wjob.payload, secret);
  if (secret && decoded.header['unique'] !== wjob.unique) {
    throw new TaskError(`Refused a task signed for another unique key: expected ${JSON.stringify(wjob.unique)}, the payload names ${JSON.stringify(decoded.header['unique'])}`);
  }
  return decoded;
}

/** The header and body of a payload this worker may run: checkedPayload's, naming the module this worker loaded. */
export function checkedTask(job: LoadedJob, wjob: WorkerJob, context: TaskContext): { header: Record<string, unknown>; body: Buffer } {
  const decoded = checkedPayload(wjob, context.secret);
  const module = decoded.header['module'] as { sha256?: unknown; gmr?: unknown } | undefined;
  if (module !== undefined && module.sha256 !== job.sha256) {
    throw new TaskError(
      `Refused a task for another version of ${job.builtin ? `built-in job ${job.name}` : job.source}: the driver's module has sha256 ${shortHash(String(module.sha256))} (gmr ${String(module.gmr)}), this worker's ${shortHash(job.sha256)} (gmr ${packageVersion()}); start the workers with the driver's module`,
    );
  }
  return decoded;
}

/** What a map and a reduce task take from every header: the job, step, task index, partitions and params. */
export function taskSpec(header: TaskHeaderBase): ReduceTaskSpec {
  return {
    job: header.job,
    ...(header.step === undefined ? {} : { step: header.step }),
    index: header.task,
    partitions: header.partitions,
    params: header.params,
  };
}

/**
 * Sends the attempt's B frame and lets it leave before the task's synchronous work starts (the
 * connection batches a turn's writes until the next tick): the driver learns at once that the
 * attempt began, which starts its --task-timeout clock and lets it count a restart if this worker
 * dies mid-task. Returns the attempt's id.
 */
export async function beginAttempt(channel: TaskChannel): Promise<string> {
  const attempt = randomBytes(6).toString('hex');
  channel.send(beginFrame(attempt));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return attempt;
}

/**
 * Waits two turns of the event loop. A task's records run synchronously, so a SIGTERM (or the
 * driver's stdin closing) that arrives meanwhile is only seen in the poll phase of the next turn;
 * the worker would otherwise deliver the result and grab the next task first, and a draining
 * worker would run one more task. Two setImmediate hops put that poll phase before the result.
 */
async function letSignalsIn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The attempt's WORK_COMPLETE data: its summary with who ran it, sealed. */
export function sealedSummary(channel: TaskChannel, summary: object): Buffer {
  return channel.complete(Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID })));
}

/** sealedSummary, once signals that came in during the task's synchronous work had their turn. */
export async function completeAttempt(channel: TaskChannel, summary: object): Promise<Buffer> {
  await letSignalsIn();
  return sealedSummary(channel, summary);
}

/**
 * Runs `run`; if it throws, or the job's code throws outside its calls meanwhile (uncaught-guard.ts),
 * the driver gets the E frame and the Gearman job fails with the one-line report naming the user's
 * frame in `job`'s modules. `refine` may first add what only the runner knows (a map failure's
 * line in its file).
 */
export async function withFailureReport(
  channel: TaskChannel,
  job: JobCode,
  where: { path: string },
  run: () => Promise<Buffer>,
  refine: (error: unknown) => Promise<unknown> = async (error) => error,
): Promise<Buffer> {
  try {
    return await guardAttempt(run);
  } catch (error) {
    const report = reportFailure(await refine(error), job.modules, where);
    channel.send(failureFrame(report.failure));
    throw report.error;
  }
}
