/**
 * gmr status over hand-written run folders (a live run, a killed driver, ended runs in _history)
 * and over the job servers alone (tasks found by their unique keys with `show unique jobs`, and
 * GET_STATUS_UNIQUE), as a user in another shell would call it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'gmr';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { runStatus } from '../fixtures/run-status.ts';
import { runGmr } from '../helpers/gmr-cli.ts';

const gearmand = useGearmand();
const cleanup = new Cleanup();
afterEach(() => cleanup.run());
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-status-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

describe('gmr status DIR', () => {
  it('a live run: job, run id, phase, tasks, bytes, attempts and messages; --json has the same facts', async () => {
    const out = join(dir, 'live');
    put(join(out, '_temporary', 'r1', 'status.json'), runStatus({ output: out }));
    const text = await runGmr(['status', out]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`wordcount  run r1  running  ${out}`);
    expect(text.stdout).toContain('step 1/1 (map): map 1/4 tasks (2 running), 3.0 KB/8.0 KB, 3 attempts');
    expect(text.stdout).toContain('reduce 0/2 tasks, 0 attempts');
    expect(text.stdout).toContain('map 2: attempt 1: worker went away');
    const json = await runGmr(['status', out, '--json']);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ job: 'wordcount', runId: 'r1', outcome: 'running', phase: 'map', tasks: { done: 1, total: 6, running: 2, failed: 0 }, bytes: { done: 3000, total: 8000 }, attempts: 3 });
  });

  it('a killed driver: "abandoned", says so, and prints the command that resumes it; --watch exits 1', async () => {
    const out = join(dir, 'killed');
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    put(join(out, '_temporary', 'r2', 'status.json'), runStatus({ runId: 'r2', output: out, driver: { pid: 4194305, host: hostname() } }));
    const r = await runGmr(['status', out]);
    expect(r.stdout).toContain('wordcount  run r2  abandoned');
    expect(r.stdout).toContain(`driver pid 4194305 on ${hostname()} is gone (killed?)`);
    expect(r.stdout).toContain('resume with: gmr run wordcount --input logs/ --output /data/out --resume');
    const watched = await runGmr(['status', out, '--watch', '--json']);
    expect(watched.code).toBe(1);
    expect(JSON.parse(watched.stdout)).toMatchObject({ outcome: 'abandoned', driver: { gone: true } });
  });

  it('a driver on another host: running while it rewrites the file, abandoned once the file is a minute old', async () => {
    const fresh = join(dir, 'remote-fresh');
    put(join(fresh, '_temporary', 'r3', 'status.json'), runStatus({ runId: 'r3', output: fresh, driver: { pid: 1, host: 'some-other-host' } }));
    expect(JSON.parse((await runGmr(['status', fresh, '--json'])).stdout)).toMatchObject({ outcome: 'running', driver: { host: 'some-other-host', gone: false } });
    const stale = join(dir, 'remote-stale');
    const old = new Date(Date.now() - 120_000).toISOString();
    put(join(stale, '_temporary', 'r4', 'status.json'), runStatus({ runId: 'r4', output: stale, updatedAt: old, driver: { pid: 1, host: 'some-other-host' } }));
    expect(JSON.parse((await runGmr(['status', stale, '--json'])).stdout)).toMatchObject({ outcome: 'abandoned', driver: { gone: true } });
  });

  it('--all lists committed and failed runs from _history, oldest first; --watch on an ended run exits with its code', async () => {
    const out = join(dir, 'history');
    put(join(out, '_history', 'a.json'), runStatus({ runId: 'a', state: 'committed', phase: 'done', exitCode: 0, startedAt: '2026-11-30T01:00:00.000Z', finishedAt: '2026-11-30T01:05:00.000Z', counters: { words: 12 } }));
    put(join(out, '_history', 'b.json'), runStatus({ runId: 'b', state: 'failed', exitCode: 1, error: 'map task 3 (x.txt@0+10) failed after 3 attempts: boom', startedAt: '2026-12-01T01:00:00.000Z', finishedAt: '2026-12-01T01:01:00.000Z' }));
    put(join(out, '_history', 'junk.json'), { not: 'a status' });
    const all = await runGmr(['status', out, '--all']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^2026-11-30T01:00:00.000Z {2}2026-11-30T01:05:00.000Z {2}committed {2}a {2}wordcount {2}1\/6 tasks {2}3 attempts {2}words=12$/);
    expect(lines[1]).toMatch(/^2026-12-01T01:00:00.000Z {2}2026-12-01T01:01:00.000Z {2}failed {5}b /);
    const latest = await runGmr(['status', out]);
    expect(latest.stdout).toContain('failed: map task 3 (x.txt@0+10) failed after 3 attempts: boom');
    expect((await runGmr(['status', out, '--watch'])).code).toBe(1);
    const json = JSON.parse((await runGmr(['status', out, '--all', '--json'])).stdout) as Array<{ runId: string; outcome: string }>;
    expect(json.map((j) => [j.runId, j.outcome])).toEqual([['a', 'committed'], ['b', 'failed']]);
  });

  it('a folder without runs, and a bad flag: one line each', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await runGmr(['status', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gmr: no gmr run in ${empty}: expected an output folder with _temporary/<run>/status.json or _history/, or a run folder\n`);
    const bad = await runGmr(['status', empty, '--bogus']);
    expect(bad.code).toBe(64);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('gmr status RUNID --servers (the job servers alone)', () => {
  it('lists the run tasks the servers hold, found by unique key, with GET_STATUS_UNIQUE numbers', async () => {
    const run = uniqueName('run').replace('_', '');
    const fn = uniqueName('gmr_map');
    const client = cleanup.add(new Client({ servers: [gearmand.address] }));
    // Nobody serves fn: the tasks stay queued. One of another run must not show.
    for (const unique of [`gmr:${run}:m:0`, `gmr:${run}.1:m:3:2`, `gmr:${run}:r:1`, `gmr:${run}x:m:0`]) {
      await client.submitBackground(fn, 'x', { unique });
    }
    const r = await runGmr(['status', run, '--servers', gearmand.address, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as { servers: Array<{ up: boolean }>; tasks: Array<Record<string, unknown>> };
    expect(view.servers).toEqual([{ address: gearmand.address, up: true, error: null }]);
    expect(view.tasks.map((t) => [t['phase'], t['index'], t['known'], t['running'], t['numerator'], t['denominator']])).toEqual([
      ['map', 0, true, false, 0, 0],
      ['map', 3, true, false, 0, 0],
      ['reduce', 1, true, false, 0, 0],
    ]);
    const text = await runGmr(['status', run, '--servers', gearmand.address]);
    expect(text.stdout).toContain('map 3 queued 0/0');
  });

  it('an unknown run id without --servers says where to look', async () => {
    const r = await runGmr(['status', 'nosuchrun']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gmr: no run "nosuchrun" here: give its output folder, or --servers to ask the job servers\n');
  });
});
