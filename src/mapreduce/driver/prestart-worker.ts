/**
 * The first local worker of `gmr run`, started by bin/gmr.js before the driver loads its own
 * modules: the two Node processes boot side by side on two cores instead of one after the other
 * (issue 15: on a small input the start-ups are most of the run). It starts as
 * `gmr worker --args-on-stdin`, loads the worker's modules and waits; the local cluster claims it
 * once its job server listens and writes its arguments (servers, job, roots, secret) as one JSON
 * line on its stdin, so it never reaches for a server that is not there yet. Unclaimed (a usage
 * error, --help), nothing waits for it: bin/gmr.js ends it, and its stdin closing ends it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { WorkerLaunch } from './worker-launch.ts';

/** Node flags of a local worker: a larger young generation (a map task makes many short-lived strings; measured ~20% faster). */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'];


let waiting: ChildProcess | undefined;

/** Whether `gmr <argv>` starts local workers: `run` without --servers (external workers) and without --help. */
export function startsLocalWorkers(argv: readonly string[]): boolean {
  const [command, ...rest] = argv;
  if (command !== 'run') return false;
  const end = rest.indexOf('--');
  const flags = end < 0 ? rest : rest.slice(0, end);
  return !flags.some((a) => a === '--servers' || a.startsWith('--servers=') || a === '--help' || a === '-h');
}

/** Starts the worker that the local cluster claims later, when `argv` is a run that starts local workers (returned, for tests). */
export function prestartWorker(bin: string, argv: readonly string[]): ChildProcess | undefined {
  if (waiting !== undefined || !startsLocalWorkers(argv)) return undefined;
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, bin, 'worker', '--args-on-stdin'], {
    // stdin is a pipe the driver writes the arguments to and then never again: when the driver
    // dies it closes and the worker exits, as a worker the cluster spawned does.
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, GMR_EXIT_WITH_STDIN: '1' },
  });
  // A failed spawn (EAGAIN) is no error of the run: the cluster then spawns its workers itself.
  child.once('error', () => {});
  // Until it is claimed, nothing keeps the driver's event loop alive for it.
  holdsDriver(child, false);
  waiting = child;
  return child;
}

/**
 * The prestarted worker, told its arguments, for the local cluster to watch as one it spawned;
 * undefined when there is none (a program calling runJob, a second cluster) or it died.
 */
export function claimPrestartedWorker(launch: WorkerLaunch): ChildProcess | undefined {
  const child = waiting;
  waiting = undefined;
  if (child === undefined) return undefined;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null || child.stdin?.writable !== true) {
    child.kill('SIGKILL');
    return undefined;
  }
  holdsDriver(child, true);
  child.stdin.write(`${JSON.stringify(launch)}\n`);
  return child;
}

/** Ends the prestarted worker if no cluster claimed it (bin/gmr.js, once the command returned). */
export function dropPrestartedWorker(): void {
  const child = waiting;
  waiting = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.destroy();
  child.kill('SIGTERM');
}

function holdsDriver(child: ChildProcess, hold: boolean): void {
  if (hold) child.ref();
  else child.unref();
  for (const pipe of [child.stdin, child.stderr]) {
    if (!(pipe instanceof Socket)) continue;
    if (hold) pipe.ref();
    else pipe.unref();
  }
}
