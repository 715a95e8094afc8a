/**
 * Errors that point at the user's code (issue 11, items 1, 3 and 7): a throwing map's one-line
 * report names the module's file, line and column (its .ts source, through tsx's source maps); the
 * full stack and the failure's fields are in --json, with the same fields as a successful run's
 * summary; a throwing setup fails the run once instead of being retried on every task.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const THROWS = join(REPO_ROOT, 'test/fixtures/jobs/throws.ts');
const SETUP_THROWS = join(REPO_ROOT, 'test/fixtures/jobs/setup-throws.ts');
const SETUP_THROWS_LATE = join(REPO_ROOT, 'test/fixtures/jobs/setup-throws-late.ts');
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-user-errors-'));
  input = join(dir, 'in.txt');
  // "boom here" is line 3 and starts at byte 12 (hand-counted: "one two\n" 8 bytes, "six\n" 4).
  writeFileSync(input, 'one two\nsix\nboom here\nthree\n'.concat('seven eight\n'.repeat(20)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--workers', '2', '--reducers', '2', '--split-size', '64'];

interface FailedRun {
  ok: boolean;
  runId: string;
  code: string;
  error: string;
  counters: Record<string, number>;
  inputs: Array<{ path: string }>;
  tasks: Array<{ phase: string; index: number; attempts: Array<{ error?: string; at?: string; stack?: string; outcome?: string }> }>;
  attempts: number;
  failure: { job: string; phase: string; task: number; file: string; offset: number; line: number; message: string; at: string; stack: string };
}

describe('a map that throws', () => {
  it('names the line of the module in the one-line report, and gives the stack and the failure as fields in --json', async () => {
    const r = await runGmr(['run', THROWS, '--input', input, ...base, '--max-attempts', '2', '--json', '--quiet']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const report = lines[lines.length - 1] ?? '';
    // test/fixtures/jobs/throws.ts line 7: `    if (line.includes('boom')) throw new Error(…)`, `new` at column 38.
    expect(report).toMatch(/^gmr: .*line 3 \(byte 12\): exploded on "boom here" \(at throws\.ts:7:38\)$/);
    const json = JSON.parse(lines[0] ?? '') as FailedRun;
    expect(json.ok).toBe(false);
    expect(json.code).toBe('GMR_ERR_RUN');
    expect(json.runId).toMatch(/^[0-9a-z]+$/);
    expect(json.inputs.map((i) => i.path)).toEqual([input]);
    expect(json.tasks.length).toBeGreaterThan(2);
    expect(json.attempts).toBeGreaterThanOrEqual(2);
    expect(json.failure).toMatchObject({ job: 'throws', phase: 'map', task: 0, file: input, offset: 12, line: 3, message: 'exploded on "boom here"', at: 'throws.ts:7:38' });
    expect(json.failure.stack.split('\n')[0]).toBe('Error: exploded on "boom here"');
    expect(json.failure.stack).toContain(`${THROWS}:7:38`);
    const failedTask = json.tasks.find((t) => t.phase === 'map' && t.index === 0);
    expect(failedTask?.attempts).toHaveLength(2);
    expect(failedTask?.attempts[0]?.at).toBe('throws.ts:7:38');
  });

  it('ends the human output with the counters and the bad records skipped', async () => {
    const r = await runGmr(['run', THROWS, '--input', input, ...base, '--max-attempts', '1', '--max-bad-records', '1']);
    expect(r.code, r.stderr).toBe(0);
    const tail = r.stderr.trim().split('\n').slice(-4);
    // 24 lines, one of them skipped; the job counts whole lines: 4 distinct ones (hand-counted).
    expect(tail).toEqual(['gmr: counters:', '  records read=23', '  records written=4', '  bad records skipped=1']);
  });
});

describe('a setup that throws', () => {
  it('fails the run once with its stack, without retrying it on every task', async () => {
    const r = await runGmr(['run', SETUP_THROWS, '--input', input, ...base, '--max-attempts', '3', '--json', '--quiet']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/in setup: no dictionary configured \(at setup-throws\.ts:6:11\)$/);
    const json = JSON.parse(lines[0] ?? '') as FailedRun;
    // Each task that started ran once: no second attempt of any task.
    for (const task of json.tasks) expect(task.attempts.length).toBeLessThanOrEqual(1);
    expect(json.tasks.some((t) => t.attempts.length === 1)).toBe(true);
    expect(json.failure).toMatchObject({ phase: 'map', message: 'no dictionary configured', at: 'setup-throws.ts:6:11' });
    expect(json.failure.stack).toContain(`${SETUP_THROWS}:6:11`);
  });

  // CI saw the report name a task that was still in its setup when another task's failure stopped
  // the run: "Job … was aborted while running as H:vm:1", instead of the setup's own error.
  it('reports the task that failed, not one the failure cut short', async () => {
    const r = await runGmr(['run', SETUP_THROWS_LATE, '--input', input, ...base, '--max-attempts', '3', '--json', '--quiet']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/in setup: no dictionary configured \(at setup-throws-late\.ts:11:11\)$/);
    const json = JSON.parse(lines[0] ?? '') as FailedRun;
    expect(json.failure).toMatchObject({ phase: 'map', message: 'no dictionary configured', at: 'setup-throws-late.ts:11:11' });
    expect(json.failure.task).not.toBe(0);
    // Task 0 was stopped in its setup, not failed by it: its one attempt says so.
    const first = json.tasks.find((t) => t.phase === 'map' && t.index === 0);
    expect(first?.attempts.map((a) => a.outcome)).toEqual(['aborted']);
  });
});
