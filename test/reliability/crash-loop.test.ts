/**
 * A record that kills the worker *process* (not a throw): the job server requeues the job to the
 * next worker, which dies too, without limit. Workers here are restarted by a supervisor loop, as
 * systemd would. The driver counts the restarts it sees (B frames) as lost attempts and gives up on
 * the task after --max-lost-attempts of them, failing the run with a message instead of waiting
 * forever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { GMR_BIN, REPO_ROOT, runGmr, userEnv } from '../helpers/gmr-cli.ts';
import { waitForWorkers } from '../helpers/harness.ts';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/jobs/crash-wordcount.ts');
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A shell loop that restarts `gmr worker` whenever it dies; killed as a process group. */
function supervisedWorker(server: string, inputRoot: string): ChildProcess {
  const loop = `while true; do "${process.execPath}" "${GMR_BIN}" worker --servers ${server} --jobs "${FIXTURE}" --input-root "${inputRoot}" --quiet; sleep 0.05; done`;
  const child = spawn('bash', ['-c', loop], { detached: true, stdio: 'ignore', env: userEnv() });
  cleanups.push(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return child;
}

describe('a record that crashes worker processes', () => {
  it('fails the run after --max-lost-attempts restarts instead of waiting forever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const input = join(dir, 'in');
    mkdirSync(input);
    const lines = Array.from({ length: 300 }, (_, i) => (i === 200 ? 'this one CRASHes the worker' : `fine line ${i}`));
    writeFileSync(join(input, 'a.txt'), `${lines.join('\n')}\n`);
    const g: GearmandHandle = await startGearmand();
    cleanups.push(() => g.stop());
    supervisedWorker(g.address, dir);
    supervisedWorker(g.address, dir);
    // Wait until both workers registered (the preflight would fail otherwise).
    await waitForWorkers(g.address, ['gmr.map.crash-wordcount'], 2);
    const out = join(dir, 'out');
    const r = await runGmr(['run', FIXTURE, '--input', input, '--servers', g.address, '--output', out, '--max-lost-attempts', '2', '--reducers', '2', '--split-size', '1k', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 worker processes died while running it/);
    expect(r.stderr).toMatch(/a\.txt@\d+\+\d+/);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
  });
});
