/**
 * The job's code throwing outside its calls (a timer, a promise nobody awaits): before, Node ended
 * the worker with a stack dump, the attempt counted as lost, and with every worker gone the run
 * ended "Every local worker exited" with the dump twice. Now the attempt fails with a one-line
 * report (counted against --max-attempts, retried), its worker exits and is replaced, and a
 * retry that succeeds leaves the counts exactly right.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/throws-later.ts');
const AFTER_LOAD = join(REPO_ROOT, 'test/fixtures/jobs/throws-after-load.ts');
const IN_DRIVER = join(REPO_ROOT, 'test/fixtures/jobs/throws-in-driver.ts');
let dir: string;
let inputs: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-thrown-outside-'));
  writeFileSync(join(dir, 'a.txt'), 'a b\nb c\n');
  writeFileSync(join(dir, 'boom.txt'), 'c d\nd d\n');
  inputs = `${join(dir, 'a.txt')},${join(dir, 'boom.txt')}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// --split-size 8: each 8-byte file is its own map task.
const base = ['--workers', '2', '--reducers', '2', '--split-size', '8'];

interface Summary {
  ok: boolean;
  mapTasks: number;
  failedAttempts: number;
  lostAttempts: number;
  tasks: Array<{ phase: string; input?: string; attempts: Array<{ outcome?: string; at?: string; worker?: string }> }>;
}

function counts(output: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const part of readdirSync(output).filter((f) => f.startsWith('part-'))) {
    for (const line of readFileSync(join(output, part), 'utf8').split('\n').filter(Boolean)) {
      const [word, n] = line.split('\t');
      expect(result[word as string], `${word} in two parts`).toBeUndefined();
      result[word as string] = Number(n);
    }
  }
  return result;
}

describe('job code that throws outside its map and reduce calls', () => {
  for (const [how, message, at] of [
    ['timer', 'exploded later in boom.txt', 'throws-later.ts:18:13'],
    ['rejection', 'rejected later in boom.txt', 'throws-later.ts:16:64'],
  ] as const) {
    it(`(${how}) fails the task after --max-attempts with a one-line report naming the line, and no stack dump`, async () => {
      const r = await runGmr(['run', JOB, '--input', inputs, ...base, '--param', `how=${how}`, '--max-attempts', '2', '--json', '--quiet']);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(
        `gmr: Job throws-later failed: map task 1 (${join(dir, 'boom.txt')}@0+8) failed after 2 attempts: thrown by the job's code outside its map and reduce calls (a timer, a callback or an unawaited promise; the worker exits): ${message} (at ${at})`,
      );
      const summary = JSON.parse(lines[0] ?? '') as Summary;
      expect(summary.ok).toBe(false);
      expect(summary.lostAttempts).toBe(0);
      const boom = summary.tasks.find((t) => t.phase === 'map' && t.input?.includes('boom.txt'));
      expect(boom?.attempts.map((a) => [a.outcome, a.at])).toEqual([
        ['failed', at],
        ['failed', at],
      ]);
    });
  }

  it('retries the attempt on a fresh worker: a run whose first attempt threw counts every word once', async () => {
    const output = join(dir, 'out-once');
    const marker = join(dir, 'marker-once');
    const r = await runGmr(['run', JOB, '--input', inputs, ...base, '--param', `marker=${marker}`, '--output', output, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    // Hand-counted: a.txt "a b / b c", boom.txt "c d / d d".
    expect(counts(output)).toEqual({ a: 1, b: 2, c: 2, d: 3 });
    const summary = JSON.parse(r.stdout) as Summary;
    expect([summary.mapTasks, summary.failedAttempts, summary.lostAttempts]).toEqual([2, 1, 0]);
    // The process that threw (its pid is in the marker) had exited: it ran no reduce (they come after every map).
    const thrower = `:${readFileSync(marker, 'utf8').trim()}`;
    const reducers = summary.tasks.filter((t) => t.phase === 'reduce').flatMap((t) => t.attempts.map((a) => a.worker ?? ''));
    expect(reducers).toHaveLength(2);
    expect(reducers.filter((w) => w.endsWith(thrower))).toEqual([]);
  });

  it('replaces the worker that exited: with --workers 1 the retry still has a worker to run on', async () => {
    const output = join(dir, 'out-one-worker');
    const r = await runGmr(['run', JOB, '--input', inputs, '--workers', '1', '--reducers', '2', '--split-size', '8', '--param', `marker=${join(dir, 'marker-one')}`, '--output', output, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(counts(output)).toEqual({ a: 1, b: 2, c: 2, d: 3 });
  });

  it('a worker whose module throws while no task runs says so in one line and exits 1', async () => {
    // Port 1 on loopback: nothing listens; the worker keeps reconnecting until the timer throws.
    const r = await runGmr(['worker', '--servers', '127.0.0.1:1', '--jobs', AFTER_LOAD, '--insecure', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "gmr worker: exits: thrown by the job's code outside its map and reduce calls (a timer, a callback or an unawaited promise; the worker exits): thrown by a timer the module started (at throws-after-load.ts:5:9)\n",
    );
  });

  it('in the driver (the module’s own timer) stops the run with one line naming the line, and leaves no output', async () => {
    const output = join(dir, 'out-driver');
    const r = await runGmr(['run', IN_DRIVER, '--input', inputs, ...base, '--output', output, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "gmr: Job throws-in-driver failed: thrown by the job's code outside its map and reduce calls (a timer, a callback or an unawaited promise; the run stops): thrown in the driver by a timer the module started (at throws-in-driver.ts:9:11)\n",
    );
    expect(existsSync(join(output, '_SUCCESS'))).toBe(false);
    // The run let go of its output folder: the next run (of another job) takes it and commits.
    const next = await runGmr(['run', 'wordcount', '--input', inputs, ...base, '--output', output, '--quiet']);
    expect(next.code, next.stderr).toBe(0);
    expect(counts(output)).toEqual({ a: 1, b: 2, c: 2, d: 3 });
  });
});
