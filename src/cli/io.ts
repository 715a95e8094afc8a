/** What a command writes to; the CLI passes the process streams, tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stderr is a terminal (live progress line). */
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Exit codes: 0 only when output is committed, 1 when the run failed, 2 for usage errors. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
