/**
 * aggregate: group-by over CSV (first line of each file is the header) or JSON-lines records.
 * Input format by extension (.csv → csv; .json, .jsonl, .ndjson → json), or --param format=csv|json.
 * Params: by=field (required); sum=field, min=field, max=field, mean=field (optional).
 * Output: `key<TAB>count`, then one TAB-separated column for each of sum, min, max, mean that was
 * asked for, in that order. The key is the field's text (a JSON non-string as JSON; missing:
 * `null`). sum and mean are printed with at most 6 decimals, trailing zeros dropped; min and max
 * as the number; a group without any numeric value prints an empty min/max/mean and a sum of 0.
 * A value that is not a number where one is needed (a JSON number or a string holding a finite
 * number) is counted in counter `aggregate.non_numeric` and ignored.
 */

import { defineJob } from 'gmr';
import type { InputFormat, Params, TaskContext } from 'gmr';

/** [records, sum, min, max, mean sum, mean count]; min/max are null until a numeric value is seen. */
type Acc = [number, number, number | null, number | null, number, number];

interface Fields {
  by: string;
  sum: string | undefined;
  min: string | undefined;
  max: string | undefined;
  mean: string | undefined;
}

function fieldsOf(ctx: TaskContext): Fields {
  const p = ctx.params;
  const text = (name: string): string | undefined => (typeof p[name] === 'string' ? p[name] : undefined);
  return { by: text('by') ?? '', sum: text('sum'), min: text('min'), max: text('max'), mean: text('mean') };
}

function inputFormat(file: string, params: Params): InputFormat {
  const given = params['format'];
  if (given === 'csv' || given === 'json') return given;
  if (given !== undefined) throw new Error(`aggregate: expected --param format=csv or format=json, received format=${given}`);
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.json') || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'json';
  throw new Error(`aggregate: cannot tell the format of ${file} from its extension (.csv, .json, .jsonl, .ndjson); pass --param format=csv|json`);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function numericField(record: Record<string, unknown>, field: string, ctx: TaskContext): number | undefined {
  const n = toNumber(record[field]);
  if (n === undefined) ctx.count('aggregate.non_numeric');
  return n;
}

function keyText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** At most 6 decimals, without trailing zeros (0.30000000000000004 → 0.3, 2.500000 → 2.5). */
export function formatDecimal(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const text = n.toFixed(6).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function merge(a: Acc, b: Acc): Acc {
  return [a[0] + b[0], a[1] + b[1], minOf(a[2], b[2]), maxOf(a[3], b[3]), a[4] + b[4], a[5] + b[5]];
}

export default defineJob<unknown, string, Acc, string, string, Fields, Fields>({
  description: 'Group CSV or JSON-lines records by --param by=field; count, and sum/min/max/mean=field; output key<TAB>count<TAB>…',
  input: inputFormat,
  params: {
    by: { description: 'field to group by', required: true },
    sum: { description: 'numeric field to sum' },
    min: { description: 'numeric field to take the minimum of' },
    max: { description: 'numeric field to take the maximum of' },
    mean: { description: 'numeric field to average' },
    format: { description: 'csv or json; default: by file extension' },
  },
  // Each task reads its params once, into its state.
  mapSetup: fieldsOf,
  reduceSetup: fieldsOf,
  map(record, ctx, f) {
    const rec = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
    let sum = 0;
    let min: number | null = null;
    let max: number | null = null;
    let meanSum = 0;
    let meanCount = 0;
    if (f.sum !== undefined) sum = numericField(rec, f.sum, ctx) ?? 0;
    if (f.min !== undefined) min = numericField(rec, f.min, ctx) ?? null;
    if (f.max !== undefined) max = numericField(rec, f.max, ctx) ?? null;
    if (f.mean !== undefined) {
      const n = numericField(rec, f.mean, ctx);
      if (n !== undefined) {
        meanSum = n;
        meanCount = 1;
      }
    }
    ctx.emit(keyText(rec[f.by]), [1, sum, min, max, meanSum, meanCount]);
  },
  combine: merge,
  // reduce sees the params (format does not), so it renders the requested columns itself.
  reduce(_key, accs, _ctx, f) {
    let acc = accs[0] as Acc;
    for (let i = 1; i < accs.length; i++) acc = merge(acc, accs[i] as Acc);
    const [count, sum, min, max, meanSum, meanCount] = acc;
    const columns = [String(count)];
    if (f.sum !== undefined) columns.push(formatDecimal(sum));
    if (f.min !== undefined) columns.push(min === null ? '' : String(min));
    if (f.max !== undefined) columns.push(max === null ? '' : String(max));
    if (f.mean !== undefined) columns.push(meanCount === 0 ? '' : formatDecimal(meanSum / meanCount));
    return columns.join('\t');
  },
});
