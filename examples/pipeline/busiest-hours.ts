/**
 * A two-step pipeline over web server logs (CSV with `time` in epoch seconds and `status`): for
 * each status code, the hour of the day (UTC) with the most requests, ties broken by the earlier
 * hour. Output: `status<TAB>hour<TAB>requests`, by status.
 *
 * Step 1 counts requests per [status, hour] (array keys sort element by element: 200 before
 * 404, hour 2 before hour 10). Step 2 receives each step-1 record as a typed pair
 * [[status, hour], requests] and keeps the best hour per status.
 *
 *   gmr run ./examples/pipeline/busiest-hours.ts --input data/sample/logs/access.csv
 * and on job servers of your own, see examples/pipeline/README.md.
 */
import { defineJob, step } from 'gmr';
import type { MapContext, ReduceContext } from 'gmr';

type StatusHour = [status: number, hour: number];

export default defineJob({
  description: 'Per status code, the busiest hour of the day (UTC); output status<TAB>hour<TAB>requests',
  input: 'csv',
  steps: [
    step({
      map(row: Record<string, string>, ctx: MapContext<StatusHour, number>) {
        const time = Number(row['time']);
        const status = Number(row['status']);
        if (!Number.isFinite(time) || !Number.isInteger(status)) return ctx.count('busiest-hours.bad_rows');
        ctx.emit([status, Math.floor(time / 3600) % 24], 1);
      },
      combine: (a: number, b: number) => a + b,
      reduce: (_key: StatusHour, counts: number[]) => counts.reduce((a, b) => a + b, 0),
    }),
    step({
      map([[status, hour], requests]: [StatusHour, number], ctx: MapContext<number, [number, number]>) {
        ctx.emit(status, [requests, hour]);
      },
      // The best [requests, hour] of two: more requests, then the earlier hour.
      combine: (a: [number, number], b: [number, number]) => (b[0] > a[0] || (b[0] === a[0] && b[1] < a[1]) ? b : a),
      reduce(status: number, best: Array<[number, number]>, ctx: ReduceContext<number, string>) {
        let [requests, hour] = best[0] as [number, number];
        for (const [r, h] of best) if (r > requests || (r === requests && h < hour)) [requests, hour] = [r, h];
        ctx.emit(status, `${hour}\t${requests}`);
      },
    }),
  ],
});
