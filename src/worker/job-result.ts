/**
 * Turning what a handler returned or threw into the bytes of WORK_COMPLETE / WORK_EXCEPTION.
 */
import { UsageError } from '../errors.ts';

const EMPTY = Buffer.alloc(0);

/** A handler's return value as WORK_COMPLETE data: nothing is an empty result. */
export function toResultBuffer(value: unknown, fn: string): Buffer {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new UsageError(
    `Handler for "${fn}" returned ${typeof value}; expected a Buffer, Uint8Array, string or nothing`,
  );
}

/** Anything thrown, as an Error (a thrown string becomes its message). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `Non-Error thrown: ${String(thrown)}`);
}
