/**
 * What an attempt reports besides its result: job code's stdout/stderr captured into its log
 * (L frames) and its ctx.status as it changes (S frames). Both are flushed before the result or
 * failure, and both leave at once (WorkerJob.flush): a synchronous map loop would otherwise hold
 * them to its end.
 */
import type { WorkerJob } from '../../worker/worker-job.ts';
import { DEFAULT_LOG_LIMIT } from '../shuffle/task-protocol.ts';
import { withCapturedOutput } from './output-capture.ts';
import { StatusSender } from './status-sender.ts';
import type { TaskChannel } from './task-channel.ts';
import { TaskLog } from './task-log.ts';

export async function withAttemptOutput(
  wjob: WorkerJob,
  channel: TaskChannel,
  logLimit: number | undefined,
  run: (status: StatusSender, log: TaskLog) => Promise<Buffer>,
): Promise<Buffer> {
  const now = (frame: Buffer): void => {
    channel.send(frame);
    wjob.flush();
  };
  const log = new TaskLog(now, logLimit ?? DEFAULT_LOG_LIMIT);
  const status = new StatusSender(now);
  const end = (): void => {
    status.close();
    log.close();
  };
  // The result's MAC covers every frame before it: nothing may follow the seal.
  channel.beforeSeal(end);
  return withCapturedOutput(log, async () => {
    try {
      return await run(status, log);
    } finally {
      end();
    }
  });
}
