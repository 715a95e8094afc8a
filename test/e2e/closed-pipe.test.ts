/**
 * A gmr command whose reader went away (`gmr jobs | head -1`, `gmr --help | true`) ends quietly, as
 * Unix tools do: no EPIPE stack on stderr, the command's own exit code (issue 11, item 4).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GMR_BIN, REPO_ROOT, userEnv } from '../helpers/gmr-cli.ts';

/** Runs gmr with its stdout a pipe whose reading end is closed at once. */
async function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [GMR_BIN, ...args], { cwd: REPO_ROOT, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stderr };
}

describe('a closed stdout', () => {
  it.each([[['jobs']], [['--help']], [['run', '--help']], [['status', '--help']]])('gmr %j exits 0 without a word', async (args) => {
    const r = await withClosedStdout(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('gmr status --watch of a running run stops once its reader is gone', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gmr-pipe-'));
    try {
      const runDir = join(out, '_temporary', 'r1');
      mkdirSync(runDir, { recursive: true });
      const now = new Date().toISOString();
      // A run whose driver (this test process) is alive: without the closed pipe it would be watched forever.
      const status = {
        version: 1, job: 'wordcount', runId: 'r1', output: out, runDir, driver: { pid: process.pid, host: hostname() }, servers: [],
        state: 'running', step: 0, phase: 'map', steps: [], running: [], messages: [], startedAt: now, updatedAt: now,
        finishedAt: null, exitCode: null, error: null, counters: {}, command: null,
      };
      writeFileSync(join(runDir, 'status.json'), JSON.stringify(status));
      const r = await withClosedStdout(['status', out, '--watch', '--interval', '0.2']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
