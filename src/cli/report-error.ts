/**
 * How the CLI shows an error and which exit code it gives: every error with a cause outside gmr
 * (usage, input, output, servers, the job's own code, the system) is one line; only a bug in gmr
 * itself prints its stack (exit 70).
 */
import {
  DeadlineError,
  GearmanError,
  InputError,
  InterruptedError,
  JobDefinitionError,
  LockHeldError,
  OutputError,
  UnavailableError,
  UsageError,
} from '../errors.ts';
import { EXIT_CANTCREAT, EXIT_FAILED, EXIT_IOERR, EXIT_NOINPUT, EXIT_SOFTWARE, EXIT_TEMPFAIL, EXIT_UNAVAILABLE, EXIT_USAGE, type CliIO } from './io.ts';

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** An error the operating system raised (ENOENT, EACCES, ENOSPC, …): its cause is outside gmr. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The exit code of one error, without looking at its causes; undefined when it does not decide. */
function ownExitCode(error: unknown): number | undefined {
  if (error instanceof UsageError || error instanceof JobDefinitionError) return EXIT_USAGE;
  if (error instanceof InputError) return EXIT_NOINPUT;
  if (error instanceof UnavailableError) return EXIT_UNAVAILABLE;
  if (error instanceof OutputError) return EXIT_CANTCREAT;
  if (error instanceof LockHeldError || error instanceof DeadlineError) return EXIT_TEMPFAIL;
  if (error instanceof InterruptedError) return 128 + (SIGNAL_NUMBERS[error.signal] ?? 1);
  return undefined;
}

/**
 * The exit code for an error: the first error along its `cause` chain that decides one (a run
 * failure wraps what made it fail), else 1 for gmr's own errors, 74 for system errors, 70 for bugs.
 */
export function exitCodeOf(error: unknown): number {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = ownExitCode(e);
    if (code !== undefined) return code;
    if (!(e instanceof Error)) break;
  }
  if (error instanceof GearmanError) return EXIT_FAILED;
  if (isSystemError(error)) return EXIT_IOERR;
  return EXIT_SOFTWARE;
}

/** The one line that names the error (its message's first line). */
export function errorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** Writes the error to stderr and returns its exit code (see exitCodeOf). */
export function reportError(error: unknown, io: CliIO): number {
  const code = exitCodeOf(error);
  if (code !== EXIT_SOFTWARE) {
    io.stderr.write(`gmr: ${error instanceof Error ? error.message : String(error)}\n`);
    return code;
  }
  io.stderr.write(`gmr: unexpected error (a bug in gmr; please report it)\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return code;
}
