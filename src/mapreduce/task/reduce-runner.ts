/**
 * How a worker runs one reduce task of a job module: decodes and checks its payload, opens its
 * sorted runs (inside the task's own run folder, or shipped in the payload), merges and reduces
 * them and sends the output as O frames (and the keys as K frames).
 */
import type { WorkerJob } from '../../worker/worker-job.ts';
import { decodeReduceHeader } from '../shuffle/task-headers.ts';
import type { InputFile } from '../shuffle/split.ts';
import { keysFrame, outputFrame, type ReduceTaskHeader } from '../shuffle/task-protocol.ts';
import { withAttemptOutput } from './attempt-output.ts';
import { runFileOpener, runReadBuffer } from './input-guard.ts';
import { runReduceTask } from './reduce-task.ts';
import type { StatusSender } from './status-sender.ts';
import { beginAttempt, checkedTask, completeAttempt, taskSpec, withFailureReport, type JobCode, type TaskContext } from './task-attempt.ts';
import { TaskChannel } from './task-channel.ts';

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

/** Runs the reduce task `wjob` carries; a payload that fails its checks fails with an E frame too. */
export async function runReduce(job: JobCode, wjob: WorkerJob, context: TaskContext): Promise<Buffer> {
  const channel = new TaskChannel(wjob, context.secret);
  return withFailureReport(channel, job, { path: '' }, async () => {
    const { header: raw, body } = checkedTask(job.loaded, wjob, context);
    const header = decodeReduceHeader(raw, body.length);
    return withAttemptOutput(wjob, channel, header.logLimit, (status) => runReduceAttempt(job, wjob, channel, header, body, status));
  });
}

/** The runs to merge: views of the payload when the driver shipped them, else read streams of the run files. */
async function openRuns(header: ReduceTaskHeader, body: Buffer): Promise<{ runs: AsyncIterable<Buffer>[]; total: number }> {
  if (header.shippedRuns) {
    const runs: AsyncIterable<Buffer>[] = [];
    let pos = 0;
    for (const length of header.shippedRuns) {
      runs.push(once(body.subarray(pos, pos + length)));
      pos += length;
    }
    return { runs, total: pos };
  }
  const paths = header.runs ?? [];
  const highWaterMark = runReadBuffer(paths.length);
  // Only map output inside the task's own run folder (input-guard.ts), never a path from anywhere.
  const openRun = runFileOpener(header.run, 'runs', header.step ?? 0);
  const handles: InputFile[] = [];
  const refused: unknown[] = [];
  for (const opened of await Promise.allSettled(paths.map((path) => openRun(path)))) {
    if (opened.status === 'fulfilled') handles.push(opened.value);
    else refused.push(opened.reason);
  }
  if (refused.length > 0) {
    // Close the runs that did open: a worker serves many tasks, and each would leak descriptors.
    await Promise.all(handles.map((fh) => fh.close()));
    throw refused[0];
  }
  return { runs: handles.map((fh) => fh.createReadStream({ highWaterMark })), total: 0 };
}

async function runReduceAttempt(job: JobCode, wjob: WorkerJob, channel: TaskChannel, header: ReduceTaskHeader, body: Buffer, status: StatusSender): Promise<Buffer> {
  await beginAttempt(channel);
  const { runs, total } = await openRuns(header, body);
  wjob.sendStatus(0, total);
  const summary = await runReduceTask(
    job.definition,
    taskSpec(header),
    runs,
    (chunk) => channel.send(outputFrame(chunk)),
    { onStatus: status.status },
    (chunk) => channel.send(keysFrame(chunk)),
  );
  wjob.sendStatus(total, total);
  return completeAttempt(channel, summary);
}
