/**
 * Task headers decoded field by field: a map or reduce payload's JSON header comes from any peer
 * (a driver in another language, a bug, an attacker), so each field is checked for its type and
 * range, and a bad one fails the task with a TaskError naming it, before any work starts:
 * `Bad map task header: split.offset expected a whole number >= 0, received "12"`.
 */
import { TaskError } from '../../errors.ts';
import type { ParamValue } from '../job/params.ts';
import type { MapTaskHeader, ReduceTaskHeader, SplitRef, TaskHeaderBase } from './task-protocol.ts';

type Raw = Record<string, unknown>;

class HeaderReader {
  constructor(readonly kind: 'map' | 'reduce') {}

  fail(field: string, expected: string, value: unknown): never {
    const received = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 80) ?? String(value);
    throw new TaskError(`Bad ${this.kind} task header: ${field} expected ${expected}, received ${received}`);
  }

  object(raw: Raw, field: string, name = field): Raw {
    const value = raw[field];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(name, 'an object', value);
    return value as Raw;
  }

  string(raw: Raw, field: string, name = field): string {
    const value = raw[field];
    if (typeof value !== 'string' || value === '') this.fail(name, 'a non-empty string', value);
    return value;
  }

  whole(raw: Raw, field: string, name = field): number {
    const value = raw[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) this.fail(name, 'a whole number >= 0', value);
    return value;
  }

  boolean(raw: Raw, field: string, name = field): boolean {
    const value = raw[field];
    if (typeof value !== 'boolean') this.fail(name, 'true or false', value);
    return value;
  }

  list<T>(raw: Raw, field: string, check: (item: unknown) => item is T, expected: string): T[] {
    const value = raw[field];
    if (!Array.isArray(value)) this.fail(field, `a list of ${expected}`, value);
    value.forEach((item, i) => {
      if (!check(item)) this.fail(`${field}[${i}]`, expected, item);
    });
    return value as T[];
  }

  /** Typed params (see job/params.ts): strings, finite numbers, booleans or lists of strings. */
  params(raw: Raw): Record<string, ParamValue> {
    const params = this.object(raw, 'params');
    for (const [key, value] of Object.entries(params)) {
      const ok =
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        (Array.isArray(value) && value.every((v) => typeof v === 'string'));
      if (!ok) this.fail(`params.${key}`, 'a string, number, boolean or list of strings', value);
    }
    return params as Record<string, ParamValue>;
  }

  /** The fields every task header has (task-protocol.ts TaskHeaderBase), each checked. */
  base(raw: Raw): TaskHeaderBase {
    const module = raw['module'] === undefined ? undefined : this.object(raw, 'module');
    return {
      v: raw['v'] as number, // decodeTask checked the wire version
      unique: this.string(raw, 'unique'),
      ...(module === undefined ? {} : { module: { sha256: this.string(module, 'sha256', 'module.sha256'), gmr: this.string(module, 'gmr', 'module.gmr') } }),
      run: this.string(raw, 'run'),
      job: this.string(raw, 'job'),
      task: this.whole(raw, 'task'),
      partitions: this.whole(raw, 'partitions'),
      params: this.params(raw),
      ...(raw['step'] === undefined ? {} : { step: this.whole(raw, 'step') }),
      ...(raw['sortValues'] === undefined ? {} : { sortValues: this.boolean(raw, 'sortValues') }),
      ...(raw['logLimit'] === undefined ? {} : { logLimit: this.whole(raw, 'logLimit') }),
    };
  }
}

const isWhole = (item: unknown): item is number => typeof item === 'number' && Number.isSafeInteger(item) && item >= 0;
const isPath = (item: unknown): item is string => typeof item === 'string' && item !== '';

export function decodeMapHeader(raw: Raw): MapTaskHeader {
  const r: HeaderReader = new HeaderReader('map');
  const splitRef = (rawSplit: Raw, name: string): SplitRef => ({
    path: r.string(rawSplit, 'path', `${name}.path`),
    offset: r.whole(rawSplit, 'offset', `${name}.offset`),
    length: r.whole(rawSplit, 'length', `${name}.length`),
    compressed: r.boolean(rawSplit, 'compressed', `${name}.compressed`),
  });
  // Small files grouped into one task name their files in `splits` instead of one `split`.
  let splits: SplitRef[] | undefined;
  if (raw['splits'] !== undefined) {
    if (raw['split'] !== undefined) r.fail('split', 'to be absent when splits is given', raw['split']);
    const list = raw['splits'];
    if (!Array.isArray(list) || list.length === 0) r.fail('splits', 'a non-empty list of splits', list);
    splits = list.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) r.fail(`splits[${i}]`, 'an object', item);
      const ref = splitRef(item as Raw, `splits[${i}]`);
      if (ref.offset !== 0) r.fail(`splits[${i}].offset`, '0 (grouped splits are whole files)', ref.offset);
      return ref;
    });
  }
  const split = splits?.[0] ?? splitRef(r.object(raw, 'split'), 'split');
  const header: MapTaskHeader = { ...r.base(raw), split, ...(splits ? { splits } : {}) };
  if (raw['lineBase'] !== undefined) header.lineBase = r.whole(raw, 'lineBase');
  const csvHeader = raw['header'];
  if (csvHeader !== undefined) {
    if (typeof csvHeader !== 'string') r.fail('header', 'a string (the CSV header line)', csvHeader);
    header.header = csvHeader;
  }
  if (raw['shipped'] !== undefined) header.shipped = { start: r.whole(r.object(raw, 'shipped'), 'start', 'shipped.start') };
  if (raw['skip'] !== undefined) header.skip = r.list(raw, 'skip', isWhole, 'whole numbers >= 0');
  if (splits && (header.shipped || header.skip || header.lineBase !== undefined || header.header !== undefined)) {
    r.fail('splits', 'no shipped, skip, lineBase or header beside it', raw['splits']);
  }
  return header;
}

/** Decodes a reduce header; `bodyLength` checks that shipped runs fill the body exactly. */
export function decodeReduceHeader(raw: Raw, bodyLength: number): ReduceTaskHeader {
  const r: HeaderReader = new HeaderReader('reduce');
  const header: ReduceTaskHeader = r.base(raw);
  if (header.task >= header.partitions) r.fail('task', `a partition below partitions (${header.partitions})`, header.task);
  if (raw['runs'] !== undefined && raw['shippedRuns'] !== undefined) r.fail('runs', 'to be absent when shippedRuns is given', raw['runs']);
  if (raw['runs'] !== undefined) header.runs = r.list(raw, 'runs', isPath, 'file paths');
  if (raw['shippedRuns'] !== undefined) {
    const lengths = r.list(raw, 'shippedRuns', isWhole, 'byte lengths');
    const sum = lengths.reduce((n, l) => n + l, 0);
    if (sum !== bodyLength) r.fail('shippedRuns', `lengths that add up to the body's ${bodyLength} bytes`, lengths);
    header.shippedRuns = lengths;
  }
  return header;
}
