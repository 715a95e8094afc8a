/** How the CLI shows an error: known errors in one line, unknown ones with their stack. */
import { GearmanError, JobDefinitionError, UsageError } from '../errors.ts';
import { EXIT_FAILED, EXIT_USAGE, type CliIO } from './io.ts';

/** Writes the error to stderr and returns the exit code: 2 for usage errors, else 1. */
export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError || error instanceof JobDefinitionError) {
    io.stderr.write(`gmr: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof GearmanError) {
    io.stderr.write(`gmr: ${error.message}\n`);
    return EXIT_FAILED;
  }
  io.stderr.write(`gmr: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILED;
}
