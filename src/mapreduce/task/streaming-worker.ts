/**
 * The streaming side of `gmr worker --streaming`: registers gmr.map.stream-<hash> (and
 * gmr.reduce.stream-<hash> with a reducer) for the one spec the worker was started with, and runs
 * its commands for tasks. The commands are the worker's: a payload's `stream` field only says
 * which spec the driver means, and a task whose field differs from the worker's is refused. Tasks
 * pass the same trust checks as a module's (signature, unique key, identity, input roots, runs
 * only in their run folder), and results go back signed through a TaskChannel.
 */
import { Readable } from 'node:stream';
import { TaskError } from '../../errors.ts';
import type { Worker } from '../../worker/worker.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import { commandText, sameStreamingSpec, streamingJobName, streamingSha256, streamingWorkerArgs, type StreamingSpec } from '../job/streaming-job.ts';
import type { RunSecret } from '../shuffle/task-auth.ts';
import { decodeStreamField, type StreamTaskField } from '../shuffle/streaming-header.ts';
import { decodeMapHeader, decodeReduceHeader } from '../shuffle/task-headers.ts';
import { failureFrame, mapFunctionName, moduleFunctionName, outputFrame, partialFrame, reduceFunctionName, type FailureStage, type TaskHeaderBase } from '../shuffle/task-protocol.ts';
import { withAttemptOutput } from './attempt-output.ts';
import { DEFAULT_LIMITS, runFileOpener, runReadBuffer, type InputOpener, type TaskLimits } from './input-guard.ts';
import { CommandFailure } from './streaming-child.ts';
import { runStreamingMap, type CommandSetting } from './streaming-map.ts';
import { runStreamingReduce } from './streaming-reduce.ts';
import type { StatusSender } from './status-sender.ts';
import { beginAttempt, checkedPayload, sealedSummary } from './task-attempt.ts';
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

/** Variables of gmr's own plumbing that a command does not inherit. */
const PRIVATE_ENV = ['GMR_EXIT_WITH_STDIN'];

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

/** Refuses a task whose `stream` field is not this worker's spec, in one line. */
function checkSpec(job: string, name: string, given: StreamTaskField | undefined, own: StreamingSpec, module: unknown): asserts given is StreamTaskField {
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

/** Fails the task with a one-line report and the E frame (the stderr tail as its stack). */
function failTask(channel: TaskChannel, error: unknown, path: string, stage: FailureStage, prefix?: string): never {
  const message = error instanceof Error ? error.message : String(error);
  const tail = error instanceof CommandFailure ? error.stderrTail : [];
  channel.send(failureFrame({ path, line: 0, offset: -1, message, stage, ...(tail.length > 0 ? { stack: tail.join('\n') } : {}) }));
  if (prefix === undefined && error instanceof Error) throw error;
  throw new TaskError(prefix === undefined ? message : `${prefix}: ${message}`, { cause: error });
}

/** The task's `stream` field once checkSpec accepts it; a task that fails the check fails at its setup stage. */
function checkedStream(channel: TaskChannel, raw: Record<string, unknown>, job: string, name: string, own: StreamingSpec, path: string): StreamTaskField {
  try {
    const stream = decodeStreamField(raw);
    checkSpec(job, name, stream, own, raw['module']);
    return stream;
  } catch (error) {
    failTask(channel, error, path, 'setup');
  }
}

/** A split as messages and GMR_SPLIT name it: `path@offset+length`. */
function splitName(split: { path: string; offset: number; length: number }): string {
  return `${split.path}@${split.offset}+${split.length}`;
}

/**
 * The variables a command sees, Hadoop Streaming's names (mapreduce_*) and gmr's (GMR_*): the
 * run, the task and this attempt, and for a map task the split it reads.
 */
function taskEnv(name: string, header: TaskHeaderBase, attempt: string, reduces: number, split?: { path: string; offset: number; length: number }): Record<string, string> {
  const kind = split === undefined ? 'r' : 'm';
  return {
    mapreduce_job_id: header.run,
    mapreduce_task_id: `task_${header.run}_${kind}_${pad(header.task)}`,
    mapreduce_task_attempt_id: `attempt_${header.run}_${kind}_${pad(header.task)}_${attempt}`,
    mapreduce_task_ismap: String(split !== undefined),
    mapreduce_task_partition: String(header.task),
    mapreduce_job_reduces: String(reduces),
    ...(split === undefined
      ? {}
      : { mapreduce_map_input_file: split.path, mapreduce_map_input_start: String(split.offset), mapreduce_map_input_length: String(split.length) }),
    GMR_RUN_ID: header.run,
    GMR_JOB: name,
    GMR_PHASE: split === undefined ? 'reduce' : 'map',
    GMR_TASK: String(header.task),
    GMR_ATTEMPT: attempt,
    ...(split === undefined ? {} : { GMR_SPLIT: splitName(split) }),
  };
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
      const { header: raw, body } = checkedPayload(wjob, secret);
      const header = decodeMapHeader(raw);
      return withAttemptOutput(wjob, channel, header.logLimit, async (status, log) => {
        const attempt = await beginAttempt(channel);
        const stream = checkedStream(channel, raw, header.job, name, spec, header.split.path);
        const env = taskEnv(name, header, attempt, spec.reducer ? header.partitions : 0, header.split);
        try {
          const summary = await runStreamingMap(
            setting(wjob, env, stream, { status, log }),
            header,
            body,
            {
              partial: (partition, chunk) => channel.send(partialFrame(partition, chunk)),
              output: (chunk) => channel.write(outputFrame(chunk)),
              progress: (done, total) => wjob.sendStatus(done, total),
            },
            { ...(options.openInput ? { openInput: options.openInput } : {}), maxInflatedBytes: limits.maxInflatedBytes },
          );
          return sealedSummary(channel, summary);
        } catch (error) {
          failTask(channel, error, header.split.path, 'task', `${name} map task ${header.task} failed on ${splitName(header.split)}`);
        }
      });
    });
  }
  if (spec.reducer !== undefined && options.phases.includes('reduce')) {
    worker.register(reduceFunctionName(name), async (wjob) => {
      const channel = new TaskChannel(wjob, secret);
      const { header: raw, body } = checkedPayload(wjob, secret);
      const header = decodeReduceHeader(raw, body.length);
      return withAttemptOutput(wjob, channel, header.logLimit, async (status, log) => {
        const attempt = await beginAttempt(channel);
        const stream = checkedStream(channel, raw, header.job, name, spec, '');
        const runs: Readable[] = [];
        let total = 0;
        if (header.shippedRuns) {
          for (const length of header.shippedRuns) {
            runs.push(Readable.from([body.subarray(total, total + length)]));
            total += length;
          }
        } else {
          const paths = header.runs ?? [];
          const highWaterMark = runReadBuffer(paths.length);
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
        const env = taskEnv(name, header, attempt, header.partitions);
        try {
          const summary = await runStreamingReduce(
            setting(wjob, env, stream, { status, log }),
            header,
            runs,
            (chunk) => channel.write(outputFrame(chunk)),
            (done) => wjob.sendStatus(Math.min(done, total), total),
          );
          wjob.sendStatus(total, total);
          return sealedSummary(channel, summary);
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
