/**
 * The line a prestarted local worker (prestart-worker.ts) waits for on its stdin: its `gmr worker`
 * arguments, its folder and the run secret, as one JSON object. Read in the worker, without the
 * modules that start processes, so a worker does not load them for it.
 */
import { readSync } from 'node:fs';
import { UsageError } from '../../errors.ts';

/** What a prestarted worker is told on its stdin: the `gmr worker` arguments, its folder and the run secret (null: --insecure). */
export interface WorkerLaunch {
  argv: string[];
  cwd: string;
  secret: string | null;
}

/**
 * The exit code of a worker whose job code threw outside its calls while tasks ran: those attempts
 * failed (they count against --max-attempts) and the local cluster starts a worker in its place.
 */
export const EXIT_JOB_CODE_THREW = 3;

/** The longest launch line read (the arguments of a worker are a few hundred bytes). */
const MAX_LINE_BYTES = 1 << 20;

/**
 * In the prestarted worker: the launch line on descriptor `fd` (its stdin), or undefined when it
 * ends first (the driver ended without claiming it). Read with blocking reads: the worker has
 * nothing else to do until it comes, and the stream machinery of process.stdin plus an event-loop
 * turn cost more than the wait (issue 15); a non-blocking descriptor is polled. Nothing follows
 * the line on the driver's side: stdin is then only watched for its end (GMR_EXIT_WITH_STDIN).
 */
export async function readWorkerLaunch(fd: number): Promise<WorkerLaunch | undefined> {
  const parts: Buffer[] = [];
  let bytes = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    if (n === 0) return undefined;
    const newline = chunk.subarray(0, n).indexOf(0x0a);
    parts.push(chunk.subarray(0, newline >= 0 ? newline : n));
    bytes += n;
    // Joined as bytes, so a character split between two reads is decoded whole.
    if (newline >= 0) return parseLaunch(Buffer.concat(parts).toString('utf8'));
    if (bytes > MAX_LINE_BYTES) throw new UsageError('--args-on-stdin expects one JSON line of arguments, received more than 1 MiB without a newline');
  }
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
