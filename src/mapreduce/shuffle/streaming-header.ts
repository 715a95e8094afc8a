/**
 * The `stream` field of a streaming task's header: the commands, separator and key fields the
 * driver means, and how long the worker lets a command go without progress. A worker never runs
 * these words: it compares them with the spec it was started with and refuses a task that differs.
 */
import { TaskError } from '../../errors.ts';
import type { StreamingSpec } from '../job/streaming-job.ts';

export interface StreamTaskField extends StreamingSpec {
  /** Kill a command that neither reads nor writes for this long (the driver's --task-timeout, ms). */
  idleMs?: number;
}

function fail(field: string, expected: string, value: unknown): never {
  const received = value === undefined ? 'nothing' : (JSON.stringify(value)?.slice(0, 80) ?? String(value));
  throw new TaskError(`Bad streaming task header: stream.${field} expected ${expected}, received ${received}`);
}

function command(raw: Record<string, unknown>, field: 'mapper' | 'combiner' | 'reducer'): string[] | undefined {
  const value = raw[field];
  if (value === undefined && field !== 'mapper') return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((w) => typeof w === 'string')) fail(field, 'a list of words (a program and its arguments)', value);
  return value as string[];
}

/** Decodes `header.stream` field by field; undefined when the header has none. */
export function decodeStreamField(header: Record<string, unknown>): StreamTaskField | undefined {
  const raw = header['stream'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('', 'an object', raw);
  const record = raw as Record<string, unknown>;
  const separator = record['separator'];
  if (typeof separator !== 'string' || separator === '') fail('separator', 'a non-empty string', separator);
  const keyFields = record['keyFields'];
  if (typeof keyFields !== 'number' || !Number.isSafeInteger(keyFields) || keyFields < 1) fail('keyFields', 'a whole number >= 1', keyFields);
  const idleMs = record['idleMs'];
  if (idleMs !== undefined && (typeof idleMs !== 'number' || !Number.isSafeInteger(idleMs) || idleMs < 1)) fail('idleMs', 'a whole number of ms >= 1', idleMs);
  const combiner = command(record, 'combiner');
  const reducer = command(record, 'reducer');
  return {
    mapper: command(record, 'mapper') as string[],
    ...(combiner ? { combiner } : {}),
    ...(reducer ? { reducer } : {}),
    separator,
    keyFields,
    ...(idleMs === undefined ? {} : { idleMs }),
  };
}
