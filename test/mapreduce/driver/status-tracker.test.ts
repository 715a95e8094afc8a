/**
 * The status file at a run's end: phase changes are written without the run waiting for them, yet
 * finish() returns only once the final status (and with --output its `_history/` copy) is on disk,
 * written after every earlier version, so no late phase write can replace it.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusTracker } from '../../../src/mapreduce/driver/status-tracker.ts';
import type { RunStatus } from '../../../src/mapreduce/status/run-status.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tracker(dir: string, output: string | null, written: RunStatus[]): StatusTracker {
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  return new StatusTracker({
    job: 'wordcount',
    runId: 'r1',
    output,
    runDir,
    servers: [],
    startedAt: new Date().toISOString(),
    command: null,
    steps: () => [{ map: [], reduce: [] }],
    onWrite: (s) => written.push(s),
  });
}

describe('StatusTracker at the end of a run', () => {
  it('leaves the final status on disk when finish() returns, after the phase writes it did not wait for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-status-end-'));
    dirs.push(dir);
    const output = join(dir, 'out');
    mkdirSync(output);
    const written: RunStatus[] = [];
    const t = tracker(dir, output, written);
    // Called back to back, as a tiny run does: none of these is awaited.
    t.phase(0, 'plan');
    t.phase(0, 'map');
    t.phase(0, 'reduce');
    t.phase(0, 'commit');
    await t.finish({ state: 'committed', exitCode: 0, counters: { words: 4 } });
    expect(written.map((s) => s.phase)).toEqual(['plan', 'map', 'reduce', 'commit', 'done']);
    const onDisk = JSON.parse(readFileSync(t.path, 'utf8')) as RunStatus;
    expect(onDisk).toMatchObject({ state: 'committed', phase: 'done', exitCode: 0, counters: { words: 4 } });
    expect(typeof onDisk.finishedAt).toBe('string');
    expect(JSON.parse(readFileSync(join(output, '_history', 'r1.json'), 'utf8'))).toEqual(onDisk);
    // Every write replaced the file whole (write + rename): no temporary file is left.
    expect(readdirSync(join(dir, 'run'))).toEqual(['status.json']);
  });

  it('keeps a failed run failed on disk, whatever phase writes were still queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-status-end-'));
    dirs.push(dir);
    const t = tracker(dir, null, []);
    t.phase(0, 'map');
    t.phase(0, 'reduce');
    await t.finish({ state: 'failed', exitCode: 1, error: 'Job wordcount failed: reduce 1 threw' });
    const onDisk = JSON.parse(readFileSync(t.path, 'utf8')) as RunStatus;
    expect(onDisk).toMatchObject({ state: 'failed', phase: 'reduce', exitCode: 1, error: 'Job wordcount failed: reduce 1 threw' });
  });
});
