/**
 * A map task's WORK_STATUS (issue 15, per-task cost): a grouped task of many small files reports
 * every 1 MiB or 200 ms and at its end, not once per file; a slow task still sends a heartbeat.
 */
import { describe, expect, it } from 'vitest';
import { PROGRESS_BYTES, PROGRESS_MS, ProgressThrottle } from '../../../src/mapreduce/task/progress-throttle.ts';

describe('ProgressThrottle', () => {
  it('sends 250 files of 20 kB read in a moment as a handful of statuses, the last one at the end', () => {
    const total = 250 * 20_000;
    const throttle = new ProgressThrottle(total);
    const sent: number[] = [];
    for (let file = 1; file <= 250; file++) if (throttle.due(file * 20_000, 1000)) sent.push(file * 20_000);
    // The first report, then one per MiB, then the end: 1 + floor(5,000,000 / 1 MiB) + 1.
    expect(sent[0]).toBe(20_000);
    expect(sent.at(-1)).toBe(total);
    expect(sent.length).toBe(6);
    for (let i = 1; i < sent.length - 1; i++) expect((sent[i] as number) - (sent[i - 1] as number)).toBeGreaterThanOrEqual(PROGRESS_BYTES);
  });

  it('sends a slow task\'s progress every 200 ms however little it read, and nothing twice', () => {
    const throttle = new ProgressThrottle(10_000);
    expect(throttle.due(10, 0)).toBe(true);
    expect(throttle.due(20, PROGRESS_MS - 1)).toBe(false);
    expect(throttle.due(30, PROGRESS_MS)).toBe(true);
    expect(throttle.due(30, 10 * PROGRESS_MS)).toBe(false);
    expect(throttle.due(10_000, 10 * PROGRESS_MS + 1)).toBe(true);
  });
});
