/**
 * format-status and render-page: the running tasks' ctx.status texts and a "no worker" state, as `gmr status` and the dashboard
 * show them (issue 14 item 1, issue 11 items 2 and 5): from a status file written by hand, the
 * text view names each running task and its text on one line, --json carries the same fields, and
 * the page lists them escaped (a status is data from anyone's job code).
 */
import { describe, expect, it } from 'vitest';
import { renderMain } from '../../src/cli/dashboard/render-page.ts';
import { formatRun, statusJson } from '../../src/cli/format-status.ts';
import { watchRun } from '../../src/mapreduce/status/live-status.ts';
import type { RunStatus } from '../../src/mapreduce/status/run-status.ts';
import { phaseCounts, runStatus } from '../fixtures/run-status.ts';

const now = new Date().toISOString();
const status: RunStatus = runStatus({
  job: 'two-steps',
  step: 1,
  steps: [
    { index: 0, map: phaseCounts(4, 4, 0), reduce: phaseCounts(2, 2, 0) },
    { index: 1, map: phaseCounts(3, 1, 2), reduce: phaseCounts(2, 0, 0) },
  ],
  running: [
    { step: 1, phase: 'map', index: 1, attempt: 1, unique: 'gmr:r1:m2:1', bytesDone: 10, status: 'at <b>word</b>\nzebra', statusAt: now },
    { step: 1, phase: 'map', index: 2, attempt: 2, unique: 'gmr:r1:m2:2', bytesDone: 0 },
  ],
  messages: [],
  startedAt: now,
  updatedAt: now,
  command: null,
  noWorker: { since: '2026-12-01T10:00:00.000Z', functions: ['gmr.map.two-steps', 'gmr.reduce.two-steps'], timeoutMs: 60_000 },
});

describe('running task status and no worker, as shown', () => {
  it('gmr status: one line per running task with a status, and the no-worker state', async () => {
    const run = await watchRun(status);
    const text = formatRun(run);
    expect(text).toContain('\n  step 2 map 1 attempt 1: at <b>word</b> zebra\n');
    expect(text).not.toContain('map 2 attempt 2:');
    expect(text).toContain('\n  no worker serves gmr.map.two-steps, gmr.reduce.two-steps since 2026-12-01T10:00:00.000Z; the run fails 60 s after that (--no-worker-timeout)\n');
    const json = statusJson(run);
    expect(json['noWorker']).toEqual(status.noWorker);
    expect((json['running'] as RunStatus['running'])[0]?.status).toBe('at <b>word</b>\nzebra');
  });

  it('the dashboard: the running tasks list and the no-worker warning, escaped', async () => {
    const html = renderMain({ title: 't', runs: [await watchRun(status)], cluster: null });
    expect(html).toContain('<ul class="running"><li>step 2 map 1 attempt 1: at &lt;b&gt;word&lt;/b&gt;\nzebra</li></ul>');
    expect(html).toContain('<p class="failure no-worker">No worker serves <code>gmr.map.two-steps</code>, <code>gmr.reduce.two-steps</code> since 2026-12-01T10:00:00.000Z;');
  });
});
