/**
 * run-cluster: a run whose input is one file within its split starts one local worker (the
 * plan is one map task), any other input starts --workers; the reducers stay --workers, and a
 * worker that dies is replaced by a spare, so its task is retried as with two workers.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workersToStart } from '../../../src/mapreduce/driver/run-cluster.ts';
import { outcomeOf, REPO_ROOT, runGmr, spawnGmr } from '../../helpers/gmr-cli.ts';

const SLOW_JOB = join(REPO_ROOT, 'test/fixtures/jobs/slow-wordcount.ts');
const CRASH_ONCE = join(REPO_ROOT, 'test/fixtures/jobs/crash-once-wordcount.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-run-cluster-'));
  writeFileSync(join(dir, 'tiny.txt'), 'the quick brown fox\n'); // 20 bytes
  writeFileSync(join(dir, 'other.txt'), 'jumps over the lazy dog\n');
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'folder', 'a.txt'), 'a\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workersToStart', () => {
  const run = (input: string[], splitSize?: number): { job: string; input: string[]; splitSize?: number } => ({ job: 'wordcount', input, ...(splitSize === undefined ? {} : { splitSize }) });

  it('starts one worker for one file within its split, relative to cwd or absolute', async () => {
    expect(await workersToStart(run(['tiny.txt']), 2, dir)).toBe(1);
    expect(await workersToStart(run([join(dir, 'tiny.txt')]), 4, '/')).toBe(1);
    expect(await workersToStart(run(['tiny.txt'], 20), 2, dir)).toBe(1);
  });

  it('starts them all for a folder, a glob, two files, a missing file, a file above --split-size, or --workers 1', async () => {
    expect(await workersToStart(run(['folder']), 2, dir)).toBe(2);
    expect(await workersToStart(run(['*.txt']), 2, dir)).toBe(2);
    expect(await workersToStart(run(['tiny.txt', 'other.txt']), 2, dir)).toBe(2);
    expect(await workersToStart(run(['nope.txt']), 3, dir)).toBe(3);
    expect(await workersToStart(run(['tiny.txt'], 19), 2, dir)).toBe(2);
    expect(await workersToStart(run(['tiny.txt']), 1, dir)).toBe(1);
  });

  it('a 20-byte run with --workers 2 --reducers 2 has one local worker process and still writes 2 parts with the counts', async () => {
    const out = join(dir, 'out');
    // A map task that sleeps 3 s per line, so the run lasts while its workers are counted.
    const child = spawnGmr(['run', SLOW_JOB, '--input', join(dir, 'tiny.txt'), '--workers', '2', '--reducers', '2', '--param', 'mapSleepMs=3000', '--output', out, '--quiet']);
    const result = outcomeOf(child, 120_000);
    let workers: number[] = [];
    // All of a run's early workers are spawned in one synchronous loop: once one is seen, all are.
    for (let i = 0; i < 1200 && workers.length === 0 && child.exitCode === null; i++) {
      workers = localWorkers(child.pid as number);
      if (workers.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(workers).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(localWorkers(child.pid as number)).toEqual(workers);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    const parts = readdirSync(out).filter((f) => f.startsWith('part-')).sort();
    expect(parts).toEqual(['part-00000', 'part-00001']);
    const lines = parts.flatMap((p) => readFileSync(join(out, p), 'utf8').split('\n').filter(Boolean)).sort();
    expect(lines).toEqual(['brown\t1', 'fox\t1', 'quick\t1', 'the\t1']);
  }, 180_000);

  it('a worker SIGKILLed by its task is replaced: the task is retried on a new process and the run commits', async () => {
    const input = join(dir, 'crash.txt');
    writeFileSync(input, 'one two\nCRASH two\n');
    const marker = join(dir, 'crashed.pid');
    const r = await runGmr(['run', CRASH_ONCE, '--input', input, '--workers', '2', '--reducers', '2', '--param', `marker=${marker}`, '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['crash\t1', 'one\t1', 'two\t2']);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { lostAttempts: number; tasks: Array<{ phase: string; attempts: Array<{ restarts?: number; worker?: string }> }> };
    expect(summary.lostAttempts).toBe(1);
    const map = summary.tasks.find((t) => t.phase === 'map');
    // One attempt, restarted once: the process that wrote the marker died, another one finished it.
    expect(map?.attempts).toHaveLength(1);
    expect(map?.attempts[0]?.restarts).toBe(1);
    const died = readFileSync(marker, 'utf8').trim();
    expect(died).toMatch(/^\d+$/);
    expect(map?.attempts[0]?.worker, JSON.stringify(map)).toMatch(/:\d+$/);
    expect(map?.attempts[0]?.worker?.endsWith(`:${died}`), JSON.stringify(map)).toBe(false);
  }, 180_000);
});

/** The `gmr worker` children of a driver process. */
function localWorkers(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'gmr\\.js worker '], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
