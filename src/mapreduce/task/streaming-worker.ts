/**
 * The streaming side of `gmr worker --streaming`: registers gmr.map.stream-<hash> (and
 * gmr.reduce.stream-<hash> with a reducer) for the one spec the worker was started with, and runs
 * its commands for tasks. The commands are the worker's: a payload's `stream` field only says
 * which spec the driver means, and a task whose field differs from the worker's is refused. Tasks
 * pass the same trust checks as a module's (signature, unique key, identity, input roots, runs
 * only in their run folder), and results go back signed through a TaskChannel.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { TaskError } from '../../errors.ts';
import type { Worker } from '../../worker/worker.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import { commandText, sameStreamingSpec, streamingJobName, streamingSha256, streamingWorkerArgs, type StreamingSpec } from '../job/streaming-job.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { decodeStreamField, type StreamTaskField } from '../shuffle/streaming-header.ts';
import { decodeMapHeader, decodeReduceHeader } from '../shuffle/task-headers.ts';
import { beginFrame, decodeTask, failureFrame, mapFunctionName, moduleFunctionName, outputFrame, partialFrame, reduceFunctionName, type FailureStage } from '../shuffle/task-protocol.ts';
import { withAttemptOutput } from './attempt-output.ts';
import { DEFAULT_LIMITS, runFileOpener, type InputOpener, type TaskLimits } from './input-guard.ts';
import { CommandFailure } from './streaming-child.ts';
import { runStreamingMap, type CommandSetting } from './streaming-map.ts';
import { runStreamingReduce } from './streaming-reduce.ts';
import type { StatusSender } from './status-sender.ts';
import { TaskChannel } from './task-channel.ts';
import type { TaskLog } from './task-log.ts';
import { TaskState } from './task-state.ts';

export interface StreamingWorkerOptions {
  spec: StreamingSpec;
  phases: Array<'map' | 'reduce'>;
  /** Where the commands run (relative program paths resolve here). Default: the process's. */
  cwd?: string;
  /** The run secret tasks are verified and results signed with; undefined with --insecure. */
  secret?: RunSecret;
  /** Opens a map task's input (the worker's input roots); without it, the file the task names is opened as named. */
  openInput?: InputOpener;
  /** maxLineBytes bounds each line a command writes (a 50 MB line passes the default 64 MiB); maxInflatedBytes each .gz input. */
  limits?: TaskLimits;
  /** Also told the stderr lines of the commands that are not reporter lines (they go to the attempt's log). */
  onLog?: (line: string) => void;
  /** Told each command's pid (tests check that none is left behind). */
  onSpawn?: (pid: number) => void;
}

/** The attempt's status and log channels (attempt-output.ts). */
interface AttemptOutput {
  status: StatusSender;
  log: TaskLog;
}

const WORKER_ID = `${hostname()}:${process.pid}`;
/** Variables of gmr's own plumbing that a command does not inherit. */
const PRIVATE_ENV = ['GMR_EXIT_WITH_STDIN'];

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

/** Refuses a task whose `stream` field is not this worker's spec, in one line. */
function checkSpec(job: string, name: string, given: StreamTaskField | undefined, own: StreamingSpec, module: unknown): void {
  if (job !== name) throw new TaskError(`Refused a streaming task for job ${job}: this worker serves only ${name} (gmr worker ${streamingWorkerArgs(own).join(' ')})`);
  if (given === undefined) throw new TaskError(`Refused a streaming task without a stream field: expected the commands of ${name} in the task header`);
  if (!sameStreamingSpec(given, own)) {
    const differs = (['mapper', 'combiner', 'reducer'] as const).find((role) => JSON.stringify(given[role] ?? null) !== JSON.stringify(own[role] ?? null));
    const what = differs === undefined ? 'another separator or key fields' : `${differs} ${given[differs] ? JSON.stringify(commandText(given[differs])) : 'none'}`;
    const mine = differs === undefined ? `separator ${JSON.stringify(own.separator)}, ${own.keyFields} key field(s)` : `${differs} ${own[differs] ? JSON.stringify(commandText(own[differs])) : 'none'}`;
    throw new TaskError(`Refused a streaming task naming ${what}: this worker runs only ${mine}, the commands it was started with (a worker never runs a command from a payload)`);
  }
  const sha256 = (module as { sha256?: unknown } | undefined)?.sha256;
  if (sha256 !== undefined && sha256 !== streamingSha256(own)) throw new TaskError(`Refused a streaming task whose module identity ${JSON.stringify(sha256).slice(0, 20)} is not its commands' hash`);
}

/** The verified header and body of a task for this worker (signed for the unique key the server gave). */
function checkedTask(wjob: WorkerJob, secret: RunSecret | undefined): { header: Record<string, unknown>; body: Buffer } {
  const decoded = decodeTask(wjob.payload, secret);
  if (secret && decoded.header['unique'] !== wjob.unique) {
    throw new TaskError(`Refused a task signed for another unique key: expected ${JSON.stringify(wjob.unique)}, the payload names ${JSON.stringify(decoded.header['unique'])}`);
  }
  return decoded;
}

/** Starts a task attempt: the B frame, out before any work. */
async function begin(channel: TaskChannel): Promise<string> {
  const attempt = randomBytes(6).toString('hex');
  channel.send(beginFrame(attempt));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return attempt;
}

/** Fails the task with a one-line report and the E frame (the stderr tail as its stack). */
function failTask(channel: TaskChannel, error: unknown, path: string, stage: FailureStage, prefix?: string): never {
  const message = error instanceof Error ? error.message : String(error);
  const tail = error instanceof CommandFailure ? error.stderrTail : [];
  channel.send(failureFrame({ path, line: 0, offset: -1, message, stage, ...(tail.length > 0 ? { stack: tail.join('\n') } : {}) }));
  if (prefix === undefined && error instanceof Error) throw error;
  throw new TaskError(prefix === undefined ? message : `${prefix}: ${message}`, { cause: error });
}

export function registerStreaming(worker: Worker, options: StreamingWorkerOptions): string {
  const { spec } = options;
  const name = streamingJobName(spec);
  const { secret } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of PRIVATE_ENV) delete baseEnv[key];
  const { onLog } = options;
  // The attempt's own log and status (attempt-output.ts): stderr lines reach the driver and its
  // _logs/ as a job module's console.* does, reporter:status: lines as its ctx.status does.
  const setting = (wjob: WorkerJob, env: Record<string, string>, stream: StreamTaskField, output: AttemptOutput): CommandSetting => ({
    spec,
    env: { ...baseEnv, ...env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    maxLineBytes: limits.maxLineBytes,
    ...(stream.idleMs === undefined ? {} : { idleMs: stream.idleMs }),
    signal: wjob.signal,
    state: new TaskState({ onStatus: output.status.status }),
    onLog: (line) => {
      output.log.write('err', Buffer.from(`${line}\n`));
      onLog?.(line);
    },
    ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn }),
  });

  const marker = moduleFunctionName(name, streamingSha256(spec));
  worker.register(marker, () => {
    throw new TaskError(`${marker} only marks which streaming commands this worker serves`);
  });
  if (options.phases.includes('map')) {
    worker.register(mapFunctionName(name), async (wjob) => {
      const channel = new TaskChannel(wjob, secret);
      const { header: raw, body } = checkedTask(wjob, secret);
      const header = decodeMapHeader(raw);
      return withAttemptOutput(wjob, channel, header.logLimit, async (status, log) => {
        const where = `${header.split.path}@${header.split.offset}+${header.split.length}`;
        const attempt = await begin(channel);
        let stream: StreamTaskField | undefined;
        try {
          stream = decodeStreamField(raw);
          checkSpec(header.job, name, stream, spec, raw['module']);
        } catch (error) {
          failTask(channel, error, header.split.path, 'setup');
        }
        const env: Record<string, string> = {
          mapreduce_job_id: header.run,
          mapreduce_task_id: `task_${header.run}_m_${pad(header.task)}`,
          mapreduce_task_attempt_id: `attempt_${header.run}_m_${pad(header.task)}_${attempt}`,
          mapreduce_task_ismap: 'true',
          mapreduce_task_partition: String(header.task),
          mapreduce_job_reduces: String(spec.reducer ? header.partitions : 0),
          mapreduce_map_input_file: header.split.path,
          mapreduce_map_input_start: String(header.split.offset),
          mapreduce_map_input_length: String(header.split.length),
          GMR_RUN_ID: header.run,
          GMR_JOB: name,
          GMR_PHASE: 'map',
          GMR_TASK: String(header.task),
          GMR_ATTEMPT: attempt,
          GMR_SPLIT: where,
        };
        try {
          const summary = await runStreamingMap(
            setting(wjob, env, stream as StreamTaskField, { status, log }),
            header,
            body,
            {
              partial: (partition, chunk) => channel.send(partialFrame(partition, chunk)),
              output: (chunk) => channel.write(outputFrame(chunk)),
              progress: (done, total) => wjob.sendStatus(done, total),
            },
            { ...(options.openInput ? { openInput: options.openInput } : {}), maxInflatedBytes: limits.maxInflatedBytes },
          );
          return channel.complete(Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID })));
        } catch (error) {
          failTask(channel, error, header.split.path, 'task', `${name} map task ${header.task} failed on ${where}`);
        }
      });
    });
  }
  if (spec.reducer !== undefined && options.phases.includes('reduce')) {
    worker.register(reduceFunctionName(name), async (wjob) => {
      const channel = new TaskChannel(wjob, secret);
      const { header: raw, body } = checkedTask(wjob, secret);
      const header = decodeReduceHeader(raw, body.length);
      return withAttemptOutput(wjob, channel, header.logLimit, async (status, log) => {
        const attempt = await begin(channel);
        let stream: StreamTaskField | undefined;
        try {
          stream = decodeStreamField(raw);
          checkSpec(header.job, name, stream, spec, raw['module']);
        } catch (error) {
          failTask(channel, error, '', 'setup');
        }
        const runs: Readable[] = [];
        let total = 0;
        if (header.shippedRuns) {
          for (const length of header.shippedRuns) {
            runs.push(Readable.from([body.subarray(total, total + length)]));
            total += length;
          }
        } else {
          const paths = header.runs ?? [];
          const highWaterMark = Math.max(16 * 1024, Math.min(1 << 20, Math.floor((64 << 20) / Math.max(1, paths.length))));
          // Only map output inside the task's own run folder (input-guard.ts), never a path from anywhere.
          const openRun = runFileOpener(header.run, 'runs', header.step ?? 0);
          try {
            for (const path of paths) runs.push((await openRun(path)).createReadStream({ highWaterMark }));
          } catch (error) {
            for (const run of runs) run.destroy();
            failTask(channel, error, '', 'task');
          }
        }
        wjob.sendStatus(0, total);
        const env: Record<string, string> = {
          mapreduce_job_id: header.run,
          mapreduce_task_id: `task_${header.run}_r_${pad(header.task)}`,
          mapreduce_task_attempt_id: `attempt_${header.run}_r_${pad(header.task)}_${attempt}`,
          mapreduce_task_ismap: 'false',
          mapreduce_task_partition: String(header.task),
          mapreduce_job_reduces: String(header.partitions),
          GMR_RUN_ID: header.run,
          GMR_JOB: name,
          GMR_PHASE: 'reduce',
          GMR_TASK: String(header.task),
          GMR_ATTEMPT: attempt,
        };
        try {
          const summary = await runStreamingReduce(
            setting(wjob, env, stream as StreamTaskField, { status, log }),
            header,
            runs,
            (chunk) => channel.write(outputFrame(chunk)),
            (done) => wjob.sendStatus(Math.min(done, total), total),
          );
          wjob.sendStatus(total, total);
          return channel.complete(Buffer.from(JSON.stringify({ ...summary, worker: WORKER_ID })));
        } catch (error) {
          failTask(channel, error, '', 'task', `${name} reduce task ${header.task} failed`);
        } finally {
          for (const run of runs) run.destroy();
        }
      });
    });
  }
  return name;
}
