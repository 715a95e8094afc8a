/**
 * The line a prestarted local worker (prestart-worker.ts) waits for on its stdin: its `gmr worker`
 * arguments, its folder and the run secret, as one JSON object. Read in the worker, without the
 * modules that start processes, so a worker does not load them for it.
 */
import { Socket } from 'node:net';
import { UsageError } from '../../errors.ts';

/** What a prestarted worker is told on its stdin: the `gmr worker` arguments, its folder and the run secret (null: --insecure). */
export interface WorkerLaunch {
  argv: string[];
  cwd: string;
  secret: string | null;
}

/**
 * In the prestarted worker: the launch line on `stdin`, or undefined when stdin ends first (the
 * driver ended without claiming it). stdin is left paused and unreferenced, for GMR_EXIT_WITH_STDIN to watch.
 */
export function readWorkerLaunch(stdin: NodeJS.ReadableStream): Promise<WorkerLaunch | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (launch: WorkerLaunch | undefined, error?: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      stdin.pause();
      // A paused pipe still holds the event loop: a worker that fails on these arguments must exit.
      if (stdin instanceof Socket) stdin.unref();
      if (error) reject(error);
      else resolve(launch);
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      const newline = text.indexOf('\n');
      if (newline < 0) {
        if (text.length > 1 << 20) finish(undefined, new UsageError('--args-on-stdin expects one JSON line of arguments, received more than 1 MiB without a newline'));
        return;
      }
      try {
        finish(parseLaunch(text.slice(0, newline)));
      } catch (error) {
        finish(undefined, error as Error);
      }
    };
    const onEnd = (): void => finish(undefined);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onEnd);
    stdin.resume();
  });
}

function parseLaunch(line: string): WorkerLaunch {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  const launch = value as Partial<WorkerLaunch> | undefined;
  const strings = (list: unknown): list is string[] => Array.isArray(list) && list.every((a) => typeof a === 'string');
  if (typeof launch !== 'object' || launch === null || !strings(launch.argv) || typeof launch.cwd !== 'string' || (launch.secret !== null && typeof launch.secret !== 'string')) {
    throw new UsageError(`--args-on-stdin expects a JSON line {"argv": [strings], "cwd": string, "secret": string or null}, received ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (launch.argv.includes('--args-on-stdin')) throw new UsageError('--args-on-stdin: the arguments on stdin cannot ask for --args-on-stdin again');
  return { argv: launch.argv, cwd: launch.cwd, secret: launch.secret };
}
