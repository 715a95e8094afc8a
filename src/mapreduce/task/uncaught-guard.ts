/**
 * What the job's code throws outside its calls (in a timer, a callback, a promise nobody awaits):
 * it fails the attempts running in the worker with a one-line report, instead of Node ending the
 * process with a stack dump and the attempt counted lost (a dead worker) rather than failed.
 */
import { TaskError } from '../../errors.ts';
import { stackOf } from './user-stack.ts';

/**
 * An error thrown outside the job's calls, as the attempts running when it came fail with it (in a
 * worker, which then exits), or as the run stops with it (in the driver, which loads the module too).
 */
export class ThrownOutsideTask extends TaskError {
  constructor(
    readonly thrown: unknown,
    consequence: 'the worker exits' | 'the run stops' = 'the worker exits',
    /** The job module's frame that threw (`my-job.ts:6:21`), when the caller knows it. */
    at?: string,
  ) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    super(`thrown by the job's code outside its map and reduce calls (a timer, a callback or an unawaited promise; ${consequence}): ${message}${at === undefined ? '' : ` (at ${at})`}`, { cause: thrown });
    // Its stack is the thrown one, so the report names the job's frame (`(at my-job.ts:6:21)`).
    const stack = stackOf(thrown);
    if (stack !== undefined) this.stack = stack;
  }
}

/** How each running attempt is failed. */
const running = new Set<(error: ThrownOutsideTask) => void>();
let installed = false;

/**
 * Runs one attempt; once the guard is installed, an error thrown outside the job's calls while it
 * runs fails it (the attempt's own work is abandoned: the process exits next).
 */
export function guardAttempt<T>(run: () => Promise<T>): Promise<T> {
  if (!installed) return run();
  return new Promise<T>((resolve, reject) => {
    running.add(reject);
    run()
      .then(resolve, reject)
      .finally(() => running.delete(reject));
  });
}

/**
 * Turns the process's uncaught exceptions and unhandled rejections into failures of the attempts
 * running (guardAttempt); `onThrown` then gets how many there were, and must end the process
 * (after their failures were sent): its state is no longer known good. For the `gmr worker`
 * process only; a test or a library keeps Node's own behaviour.
 */
export function installUncaughtGuard(onThrown: (attempts: number, error: ThrownOutsideTask) => void): void {
  installed = true;
  process.on('uncaughtException', (thrown) => {
    const error = new ThrownOutsideTask(thrown);
    const attempts = [...running];
    running.clear();
    for (const fail of attempts) fail(error);
    onThrown(attempts.length, error);
  });
}
