// my-job.ts: bytes per HTTP status code, from CSV access logs with a header line.
import { defineJob, type MapContext } from 'gmr';

export default defineJob({
  description: 'bytes per HTTP status code',
  input: 'csv',
  map(row: Record<string, string>, ctx: MapContext<string, number>) {
    ctx.emit(row.status ?? '?', Number(row.bytes) || 0);
  },
  combine: (a, b) => a + b,
  reduce: (status, totals) => totals.reduce((a, b) => a + b, 0),
});
