/**
 * Worker options: their defaults, and the validation that turns user input into a resolved,
 * fully-populated configuration (constructors validate and merge defaults by spread).
 */
import { UsageError } from '../errors.ts';
import { CONNECTION_DEFAULTS } from '../connection/connection.ts';
import type { TlsOptions } from '../connection/tls-options.ts';
import { parseServerAddress, withRoleTls, type ServerAddress } from '../connection/server-address.ts';
import { DEFAULT_SERVER, MAX_FUNCTION_NAME_BYTES, MIN_CAN_DO_TIMEOUT_MS } from '../protocol/limits.ts';
import { nameProblem } from '../protocol/names.ts';
import { withDefaults } from '../defaults.ts';
import type { WorkerJob } from './worker-job.ts';

export interface WorkerOptions {
  /** Job servers, `host:port` or `{ host, port }`; default `['127.0.0.1:4730']`. */
  servers?: Array<string | ServerAddress>;
  /** Jobs run at once across all servers (default 1). */
  concurrency?: number;
  /** Sent as SET_CLIENT_ID on every (re)connect; shown by gearadmin --workers. */
  clientId?: string;
  /** Largest packet accepted from a server (default: the parser's 1 GiB). */
  maxPacketSize?: number;
  /** Reconnect backoff: first delay, doubled per failed attempt up to maxBackoffMs (jittered). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long start() waits for the first server before it rejects (default 10 s). */
  startTimeoutMs?: number;
  /**
   * How a handler's error reaches the client (checked against gearmand 1.1.20 with the gearman CLI
   * and Perl Gearman::Client; no single sequence serves every client):
   * - `'WORK_FAIL'` (default): WORK_WARNING with the error message, then WORK_FAIL. Every client
   *   gets a clean failure and can show the text (the CLI prints it, Perl calls on_warning).
   * - `'WORK_EXCEPTION'`: WORK_EXCEPTION with the message alone. Clients that sent OPTION_REQ
   *   "exceptions" (gmr's Client does) get the text as an exception, but gearmand 1.1.20 converts it
   *   for every other client into a WORK_FAIL whose handle ends in a stray NUL: the gearman CLI then
   *   waits forever and Perl Gearman::Client dies ("work_fail for unknown handle"). Use it only
   *   when every client asks for exceptions, or with a server that omits the NUL.
   * Never both: WORK_EXCEPTION finishes the job, and a WORK_FAIL after it is answered with
   * ERROR JOB_NOT_FOUND.
   */
  failWith?: 'WORK_FAIL' | 'WORK_EXCEPTION';
  /** TLS for every server in `servers` (a `tls://host:port` entry is TLS on its own). */
  tls?: TlsOptions;
  /** The bytes a failure sends (WORK_EXCEPTION data or WORK_WARNING text); default the error message. gmr's task workers sign them. */
  failureData?: (job: WorkerJob, error: Error) => Buffer;
}

export interface RegisterOptions {
  /**
   * Milliseconds a job of this function may run before gearmand takes it back and requeues it
   * (CAN_DO_TIMEOUT, decimal text; gearmand >= 1.1.19 reads milliseconds, with a minimum of 1000).
   */
  timeout?: number;
}

export interface ResolvedWorkerOptions {
  servers: ServerAddress[];
  concurrency: number;
  clientId: string | undefined;
  maxPacketSize: number | undefined;
  initialBackoffMs: number;
  maxBackoffMs: number;
  startTimeoutMs: number;
  failWith: 'WORK_FAIL' | 'WORK_EXCEPTION';
  failureData: ((job: WorkerJob, error: Error) => Buffer) | undefined;
}

const DEFAULTS = {
  servers: [DEFAULT_SERVER] as Array<string | ServerAddress>,
  concurrency: 1,
  initialBackoffMs: CONNECTION_DEFAULTS.initialBackoffMs,
  maxBackoffMs: CONNECTION_DEFAULTS.maxBackoffMs,
  startTimeoutMs: 10_000,
  failWith: 'WORK_FAIL' as 'WORK_FAIL' | 'WORK_EXCEPTION',
};

/** gearmand 1.1.20 truncates SET_CLIENT_ID to 127 bytes. */
const MAX_CLIENT_ID_BYTES = 127;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`Worker option ${name} must be a positive integer, received ${String(value)}`);
  }
  return value;
}

function toAddress(server: string | ServerAddress): ServerAddress {
  if (typeof server === 'string') return parseServerAddress(server);
  if (typeof server.host !== 'string' || server.host === '' || !Number.isInteger(server.port)) {
    throw new UsageError(`Bad server ${JSON.stringify(server)}: expected { host: string, port: number }`);
  }
  return server.tls === undefined ? { host: server.host, port: server.port } : { host: server.host, port: server.port, tls: server.tls };
}

export function resolveWorkerOptions(options: WorkerOptions = {}): ResolvedWorkerOptions {
  const merged = withDefaults(DEFAULTS, options);
  if (merged.servers.length === 0) throw new UsageError('Worker option servers is empty: expected at least one job server');
  const clientId = merged.clientId;
  if (clientId !== undefined && (clientId === '' || Buffer.byteLength(clientId) > MAX_CLIENT_ID_BYTES || clientId.includes('\0'))) {
    throw new UsageError(`Worker option clientId must be 1-${MAX_CLIENT_ID_BYTES} bytes without NUL, received "${clientId}"`);
  }
  if (merged.maxPacketSize !== undefined) positiveInteger('maxPacketSize', merged.maxPacketSize);
  if (merged.failWith !== 'WORK_FAIL' && merged.failWith !== 'WORK_EXCEPTION') {
    throw new UsageError(`Worker option failWith must be "WORK_FAIL" or "WORK_EXCEPTION", received ${JSON.stringify(merged.failWith)}`);
  }
  return {
    servers: merged.servers.map((server) => withRoleTls(toAddress(server), merged.tls)),
    concurrency: positiveInteger('concurrency', merged.concurrency),
    clientId,
    maxPacketSize: merged.maxPacketSize,
    initialBackoffMs: positiveInteger('initialBackoffMs', merged.initialBackoffMs),
    maxBackoffMs: positiveInteger('maxBackoffMs', merged.maxBackoffMs),
    startTimeoutMs: positiveInteger('startTimeoutMs', merged.startTimeoutMs),
    failWith: merged.failWith,
    failureData: merged.failureData,
  };
}

/** Validates a function name and its CAN_DO_TIMEOUT; returns the timeout (or undefined). */
export function validateRegistration(fn: string, options: RegisterOptions | undefined): number | undefined {
  if (typeof fn !== 'string' || fn === '' || fn.includes('\0')) {
    throw new UsageError(`Function name must be a non-empty string without NUL, received ${JSON.stringify(fn)}`);
  }
  const problem = nameProblem('Function name', fn, MAX_FUNCTION_NAME_BYTES);
  if (problem) throw new UsageError(problem);
  const timeout = options?.timeout;
  if (timeout === undefined) return undefined;
  if (!Number.isInteger(timeout) || timeout < MIN_CAN_DO_TIMEOUT_MS) {
    throw new UsageError(
      `Timeout for "${fn}" must be an integer number of milliseconds >= ${MIN_CAN_DO_TIMEOUT_MS} (gearmand's minimum), received ${String(timeout)}`,
    );
  }
  return timeout;
}
