/**
 * One error hierarchy for all of gmr. Every error carries a stable `code` (`GMR_ERR_*`) that
 * programs can switch on; messages name the thing, what was expected and what was received.
 */

export type ErrorCode =
  | 'GMR_ERR_PROTOCOL'
  | 'GMR_ERR_SERVER'
  | 'GMR_ERR_CONNECTION'
  | 'GMR_ERR_TIMEOUT'
  | 'GMR_ERR_ABORTED'
  | 'GMR_ERR_JOB_FAILED'
  | 'GMR_ERR_JOB_EXCEPTION'
  | 'GMR_ERR_OUTCOME_UNKNOWN'
  | 'GMR_ERR_CLOSED'
  | 'GMR_ERR_USAGE'
  | 'GMR_ERR_INPUT'
  | 'GMR_ERR_JOB_DEFINITION'
  | 'GMR_ERR_TASK'
  | 'GMR_ERR_RUN'
  | 'GMR_ERR_LOCKED'
  | 'GMR_ERR_UNAVAILABLE'
  | 'GMR_ERR_OUTPUT'
  | 'GMR_ERR_DEADLINE'
  | 'GMR_ERR_INTERRUPTED';

export class GearmanError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** What was wrong with the bytes: lets a server answer with gearmand's matching ERROR code. */
export type ProtocolFault = 'magic' | 'type' | 'size' | 'arguments' | 'text' | 'other';

/** Bytes on the wire that do not form a valid packet or admin line. */
export class ProtocolError extends GearmanError {
  readonly fault: ProtocolFault;

  constructor(message: string, options?: { cause?: unknown; fault?: ProtocolFault }) {
    super('GMR_ERR_PROTOCOL', message, options);
    this.fault = options?.fault ?? 'other';
  }
}

/** The job server answered with an ERROR packet (code is gearmand's, e.g. `QUEUE_ERROR`). */
export class ServerError extends GearmanError {
  readonly serverCode: string;

  constructor(serverCode: string, text: string) {
    super('GMR_ERR_SERVER', `Job server error ${serverCode}: ${text}`);
    this.serverCode = serverCode;
  }
}

/** A socket could not be opened or was lost. */
export class ConnectionError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_CONNECTION', message, options);
  }
}

export class TimeoutError extends GearmanError {
  constructor(message: string) {
    super('GMR_ERR_TIMEOUT', message);
  }
}

export class AbortError extends GearmanError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('GMR_ERR_ABORTED', message, options);
  }
}

/** The worker sent WORK_FAIL (or the server failed the job after too many retries). */
export class JobFailedError extends GearmanError {
  readonly handle: string;

  constructor(handle: string, message = `Job ${handle} failed`) {
    super('GMR_ERR_JOB_FAILED', message);
    this.handle = handle;
  }
}

/** The worker sent WORK_EXCEPTION; `message` is the worker's text. */
export class JobExceptionError extends GearmanError {
  readonly handle: string;
  readonly exception: Buffer;

  constructor(handle: string, exception: Buffer) {
    super('GMR_ERR_JOB_EXCEPTION', exception.toString('utf8'));
    this.handle = handle;
    this.exception = exception;
  }
}

/**
 * A foreground job without a unique key was in flight on a server that died: it may or may not
 * have run, and resubmitting it could run it twice, so the caller has to decide.
 */
export class OutcomeUnknownError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_OUTCOME_UNKNOWN', message, options);
  }
}

/** The object was closed before or during the operation. */
export class ClosedError extends GearmanError {
  constructor(what: string) {
    super('GMR_ERR_CLOSED', `${what} is closed`);
  }
}

/** Bad command-line usage or options (exit 64 at the CLI). */
export class UsageError extends GearmanError {
  constructor(message: string) {
    super('GMR_ERR_USAGE', message);
  }
}

/** Input paths that are missing or unreadable (exit 66 at the CLI). */
export class InputError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_INPUT', message, options);
  }
}

/** A job module that does not load or does not have the expected shape. */
export class JobDefinitionError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_JOB_DEFINITION', message, options);
  }
}

/** A map or reduce task that failed; the message names the job, split, record and error. */
export class TaskError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_TASK', message, options);
  }
}

/** A whole map/reduce run that failed. */
export class RunError extends GearmanError {
  /** What the run had done when it failed (the summary's fields, `ok: false`, and `failure`), when it got that far. */
  summary?: Readonly<Record<string, unknown>>;

  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_RUN', message, options);
  }
}

/** Another run holds the output folder's lock: retry later (exit 75 at the CLI). */
export class LockHeldError extends GearmanError {
  constructor(message: string) {
    super('GMR_ERR_LOCKED', message);
  }
}

/** Job servers unreachable, or no worker serves the run's functions (exit 69 at the CLI). */
export class UnavailableError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_UNAVAILABLE', message, options);
  }
}

/** The output folder cannot be created or written (exit 73 at the CLI). */
export class OutputError extends GearmanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GMR_ERR_OUTPUT', message, options);
  }
}

/** The run did not finish before its --deadline (exit 75 at the CLI: try again later, with --resume). */
export class DeadlineError extends GearmanError {
  constructor(message: string) {
    super('GMR_ERR_DEADLINE', message);
  }
}

/** The run was stopped by SIGINT or SIGTERM (exit 128 + signal number at the CLI). */
export class InterruptedError extends GearmanError {
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals, message: string) {
    super('GMR_ERR_INTERRUPTED', message);
    this.signal = signal;
  }
}
