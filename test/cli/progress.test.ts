/**
 * The progress line's task status and no-worker fields (issue 11 items 2 and 5): the newest
 * ctx.status of a running task goes at the end and is the first thing dropped when the line is
 * too wide; "no worker for …" goes in front and stays. Expected lines are written by hand.
 */
import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/cli/progress.ts';
import type { RunProgress } from '../../src/mapreduce/driver/run-progress.ts';

const phase = (done: number, total: number, bytesDone: number, bytesTotal: number) => ({ total, done, running: 1, failed: 0, bytesDone, bytesTotal });
const base: RunProgress = { phase: 'map', step: 1, steps: 1, map: phase(1, 4, 500, 2000), reduce: phase(0, 2, 0, 0), elapsedMs: 10_000 };

describe('progress line fields', () => {
  it('ends with the newest task status (newlines folded), dropped first when too wide', () => {
    const p: RunProgress = { ...base, status: { task: 'map 3', text: 'at line\n1200' } };
    const full = 'map 25% (500 B/2.0 KB, 50 B/s, ETA 0:30) tasks 1/4 (1 running) · reduce 0/2 (1 running) · 0:10 · map 3: at line 1200';
    expect(formatProgress(p)).toBe(full);
    expect(formatProgress(p, full.length)).toBe(full);
    expect(formatProgress(p, full.length - 1)).toBe('map 25% (500 B/2.0 KB, 50 B/s, ETA 0:30) tasks 1/4 (1 running) · reduce 0/2 (1 running) · 0:10');
  });

  it('says at the front that no worker serves the run, and keeps it at 60 columns', () => {
    const p: RunProgress = { ...base, noWorker: { functions: ['gmr.map.x'], sinceElapsedMs: 4_000, timeoutMs: 60_000 } };
    expect(formatProgress(p)).toBe('no worker for 0:06 (fails at 1:00) · map 25% (500 B/2.0 KB, 50 B/s, ETA 0:30) tasks 1/4 (1 running) · reduce 0/2 (1 running) · 0:10');
    const narrow = formatProgress(p, 60);
    expect(narrow.length).toBeLessThanOrEqual(60);
    expect(narrow.startsWith('no worker for 0:06 (fails at 1:00) · ')).toBe(true);
  });
});
