/** What a command writes to, and the exit codes it returns (BSD sysexits.h where one fits). */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stderr is a terminal (live progress line). */
  isTTY?: boolean;
  /** The terminal's width in columns, when stderr is one. */
  columns?: number;
  env?: NodeJS.ProcessEnv;
  /** True once stdout's reader has gone away (EPIPE): a command that would go on can stop. */
  stdoutGone?: () => boolean;
}

/** The output was committed (or printed). */
export const EXIT_OK = 0;
/** The run failed: a task failed for good, or too many bad records. Fix the job or the data. */
export const EXIT_FAILED = 1;
/** EX_USAGE: bad flags, unknown job, bad --param, unusable job module, output folder not empty. */
export const EXIT_USAGE = 64;
/** EX_NOINPUT: an input path is missing or unreadable, or a glob matches nothing. */
export const EXIT_NOINPUT = 66;
/** EX_UNAVAILABLE: job servers unreachable, or no worker serves the job. */
export const EXIT_UNAVAILABLE = 69;
/** EX_SOFTWARE: a bug in gmr itself (the only error printed with a stack). */
export const EXIT_SOFTWARE = 70;
/** EX_IOERR: the system refused a read or write outside the input and output checks (disk full, …). */
export const EXIT_IOERR = 74;
/** EX_CANTCREAT: the output folder cannot be created or written. */
export const EXIT_CANTCREAT = 73;
/** EX_TEMPFAIL: another run holds the output lock, or --deadline passed. Retry later. */
export const EXIT_TEMPFAIL = 75;

/** The exit-code table as --help and the README show it. */
export const EXIT_CODES_HELP = `Exit codes (BSD sysexits.h):
  0    output committed
  1    a task or the run failed (fix the job or the data)
  64   usage error: flags, --param values, the job module
  66   input missing or unreadable, or a glob that matches nothing
  69   job servers unreachable, or no worker serves the job
  70   internal error in gmr (printed with a stack; please report it)
  73   output folder cannot be created or written
  74   other I/O error (disk full, …)
  75   temporary: another run holds the output lock, or --deadline passed (retry later)
  130  stopped by SIGINT, 143 by SIGTERM`;
