/**
 * Client option and result types, defaults and argument checks (constructors validate and merge
 * defaults by spread; bad arguments throw at the call, not later on the wire).
 */
import { randomUUID } from 'node:crypto';
import type { ClientJobSpec, Priority } from './client-job.ts';
import type { PacketOf } from '../protocol/packets.ts';
import type { ServerAddress } from '../connection/server-address.ts';
import type { TlsOptions } from '../connection/tls-options.ts';
import { DEFAULT_SERVER, MAX_FUNCTION_NAME_BYTES, MAX_UNIQUE_BYTES } from '../protocol/limits.ts';
import { nameProblem } from '../protocol/names.ts';

export type { Priority } from './client-job.ts';

export interface ClientOptions {
  /** `host:port` strings or addresses; default ['127.0.0.1:4730']. The order matters for hashing. */
  servers?: Array<string | ServerAddress>;
  /** Submitted-but-unfinished jobs at once (default 1000); further submits wait. */
  maxInFlight?: number;
  /** Default per-submit timeout in ms (none by default). */
  timeoutMs?: number;
  /** Sent as SET_CLIENT_ID on every connect (shown by the admin `workers` command). */
  clientId?: string;
  connectTimeoutMs?: number;
  maxPacketSize?: number;
  /** TLS for every server in `servers` (a `tls://host:port` entry is TLS on its own). */
  tls?: TlsOptions;
}

export interface SubmitOptions {
  /** Coalescing key (at most 63 bytes); `-` makes the payload the key. */
  unique?: string;
  priority?: Priority;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BackgroundSubmitOptions extends SubmitOptions {
  /** Run at or after this time (SUBMIT_JOB_EPOCH): a Date or unix seconds. Normal priority only. */
  epoch?: Date | number;
}

export interface JobStatus {
  handle: string;
  known: boolean;
  running: boolean;
  numerator: number;
  denominator: number;
}

export interface UniqueStatus extends Omit<JobStatus, 'handle'> {
  unique: string;
  /** Foreground clients attached to the job. */
  clientCount: number;
}

export interface ClientEvents {
  connect: [address: string];
  disconnect: [address: string, error: Error];
  error: [Error];
}

export const CLIENT_DEFAULTS = { servers: [DEFAULT_SERVER] as Array<string | ServerAddress>, maxInFlight: 1000 };
/** How many handle → server entries getStatus() remembers. */
export const MAX_REMEMBERED_HANDLES = 10_000;

export function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number, received ${String(value)}`);
  }
}

/** A function name the server can store and print (at most 8 KiB, no control characters). */
export function checkFunctionName(fn: string): void {
  checkName('fn', fn);
  const problem = nameProblem('fn', fn, MAX_FUNCTION_NAME_BYTES);
  if (problem) throw new RangeError(problem);
}

export function checkName(what: string, value: string, maxBytes?: number): void {
  if (value.includes('\0')) {
    throw new TypeError(`${what} must not contain NUL bytes, received ${JSON.stringify(value)}`);
  }
  if (maxBytes !== undefined && Buffer.byteLength(value) > maxBytes) {
    throw new RangeError(`${what} must be at most ${maxBytes} bytes, received ${Buffer.byteLength(value)}`);
  }
}

/** SUBMIT_JOB_EPOCH's time argument: whole unix seconds; epoch jobs are normal priority. */
export function toEpochSeconds(
  epoch: Date | number | undefined,
  priority: Priority | undefined,
): number | undefined {
  if (epoch === undefined) return undefined;
  const seconds = epoch instanceof Date ? Math.floor(epoch.getTime() / 1000) : epoch;
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new RangeError(`epoch must be a Date or whole unix seconds >= 0, received ${String(epoch)}`);
  }
  if (priority !== undefined && priority !== 'normal') {
    throw new RangeError(`epoch jobs run at normal priority (SUBMIT_JOB_EPOCH), received "${priority}"`);
  }
  return seconds;
}

/** Validates a submit's arguments into the job's spec (throws TypeError/RangeError). */
export function buildJobSpec(
  fn: string,
  payload: Buffer | string,
  options: SubmitOptions,
  defaultTimeoutMs: number | undefined,
  background: boolean,
  epoch: number | undefined,
): ClientJobSpec {
  if (typeof fn !== 'string' || fn.length === 0) {
    throw new TypeError(`fn must be a non-empty function name, received ${JSON.stringify(fn)}`);
  }
  checkFunctionName(fn);
  const callerUnique = options.unique !== undefined && options.unique !== '';
  if (options.unique !== undefined) checkName('unique', options.unique, MAX_UNIQUE_BYTES);
  const priority = options.priority ?? 'normal';
  if (priority !== 'high' && priority !== 'normal' && priority !== 'low') {
    throw new RangeError(`priority must be 'high', 'normal' or 'low', received ${JSON.stringify(priority)}`);
  }
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  checkPositive('timeoutMs', timeoutMs);
  // Background jobs get a UUID unique when none is given, as libgearman does: persistent queues
  // key on (unique, function), and empty uniques overwrite each other there (reference §3.3).
  // It does not count as the caller's key: such a job is neither hashed nor resubmitted.
  const unique = callerUnique ? (options.unique as string) : background ? randomUUID() : '';
  if (payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
    throw new TypeError('payload must be a Buffer or a string');
  }
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return { fn, unique, callerUnique, payload: data, priority, epoch, timeoutMs };
}

/** What STATUS_RES and STATUS_RES_UNIQUE both carry, read from their text fields. */
function statusOf(reply: PacketOf<'STATUS_RES'> | PacketOf<'STATUS_RES_UNIQUE'>): Omit<JobStatus, 'handle'> {
  return {
    known: reply.known === '1',
    running: reply.running === '1',
    numerator: Number(reply.numerator),
    denominator: Number(reply.denominator),
  };
}

export function toJobStatus(reply: PacketOf<'STATUS_RES'>): JobStatus {
  return { handle: reply.handle, ...statusOf(reply) };
}

export function toUniqueStatus(reply: PacketOf<'STATUS_RES_UNIQUE'>): UniqueStatus {
  return { unique: reply.unique, ...statusOf(reply), clientCount: Number(reply.clientCount) };
}
