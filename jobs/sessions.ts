/**
 * sessions: per user, how many sessions and their mean length. Input: JSON-lines or CSV events
 * with a user field and a time field (seconds, as a number or a numeric string, or an ISO 8601
 * date). Events of one user closer than `gap` seconds to the previous one belong to its session.
 * Params: user (field, default user), time (field, default time), gap (seconds, default 1800),
 * format (csv|json; default by extension: .csv, .json/.jsonl/.ndjson).
 * Output: `user<TAB>sessions<TAB>mean session length in seconds` (at most 6 decimals), by user.
 * Events without a user or a readable time are counted in `sessions.bad_events` and skipped.
 *
 * Two steps: sessionize (each user's times arrive sorted, sortValues: true, and each session is
 * emitted as (user, length)), then aggregate the sessions of each user.
 */

import { defineJob, step } from 'gmr';
import type { InputFormat, MapContext, Params, ReduceContext } from 'gmr';

interface Fields {
  user: string;
  time: string;
  gap: number;
}

function fieldsOf(ctx: { params: Params }): Fields {
  const given = ctx.params['gap'] ?? 1800;
  const gap = Number(given);
  if (!Number.isFinite(gap) || gap < 0) throw new Error(`sessions: expected --param gap=<seconds >= 0>, received gap=${String(given)}`);
  return { user: String(ctx.params['user'] ?? 'user'), time: String(ctx.params['time'] ?? 'time'), gap };
}

function inputFormat(file: string, params: Params): InputFormat {
  const given = params['format'];
  if (given === 'csv' || given === 'json') return given;
  if (given !== undefined) throw new Error(`sessions: expected --param format=csv or format=json, received format=${given}`);
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.json') || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'json';
  throw new Error(`sessions: cannot tell the format of ${file} from its extension (.csv, .json, .jsonl, .ndjson); pass --param format=csv|json`);
}

/** Seconds since the epoch, from a number, a numeric string or an ISO 8601 date; else undefined. */
function seconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  if (Number.isFinite(n)) return n;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/** At most 6 decimals, without trailing zeros. */
function formatDecimal(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const text = n.toFixed(6).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

export default defineJob({
  description: 'Per user: sessions (events closer than --param gap=1800 s) and mean session length; output user<TAB>sessions<TAB>mean',
  input: inputFormat,
  params: {
    user: { description: 'the user field', default: 'user' },
    time: { description: 'the time field (seconds or ISO 8601)', default: 'time' },
    gap: { description: 'seconds between events that end a session', type: 'number', default: 1800 },
    format: { description: 'csv or json; default: by file extension' },
  },
  steps: [
    step({
      mapSetup: fieldsOf,
      map(event: unknown, ctx: MapContext<string, number>, f) {
        const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
        const user = record[f.user];
        const time = seconds(record[f.time]);
        if ((typeof user !== 'string' && typeof user !== 'number') || user === '' || time === undefined) {
          ctx.count('sessions.bad_events');
          return;
        }
        ctx.emit(String(user), time);
      },
      sortValues: true,
      reduceSetup: fieldsOf,
      reduce(user: string, times: number[], ctx: ReduceContext<string, number>, f) {
        let start = times[0] as number;
        let last = start;
        for (let i = 1; i < times.length; i++) {
          const t = times[i] as number;
          if (t - last >= f.gap) {
            ctx.emit(user, last - start);
            start = t;
          }
          last = t;
        }
        ctx.emit(user, last - start);
      },
    }),
    step({
      map: ([user, length]: [string, number], ctx: MapContext<string, [number, number]>) => ctx.emit(user, [1, length]),
      combine: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
      reduce(_user: string, parts: Array<[number, number]>) {
        let count = 0;
        let total = 0;
        for (const [n, length] of parts) {
          count += n;
          total += length;
        }
        return `${count}\t${formatDecimal(total / count)}`;
      },
    }),
  ],
});
