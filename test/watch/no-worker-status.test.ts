/**
 * "No worker serves gmr.map.X" as a status field, not only a log line (issue 11 item 5, issue 14):
 * when a run's only worker is SIGKILLed, `gmr status --json` from another shell shows `noWorker`
 * (the functions and since when) and the text view says so; the driver's last progress line starts
 * with "no worker for"; the failed run's history keeps the field (real gearmand).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand } from '../helpers/gearmand.ts';
import { runGmr } from '../helpers/gmr-cli.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, exitOf, mapFn, reduceFn, slowCorpus, taskLog, waitForWorkers } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

interface NoWorker {
  since: string;
  functions: string[];
  timeoutMs: number;
}

describe('no worker, as a status field', () => {
  it('gmr status shows noWorker while the run waits, and the failed run keeps it', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const out = join(dir, 'out');
    const g = await startGearmand();
    h.defer(() => g.stop());
    const log = join(dir, 'tasks.log');
    const worker = h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--quiet'], { GMR_TEST_TASK_LOG: log });
    const functions = [mapFn('slow-wordcount'), reduceFn('slow-wordcount')];
    await waitForWorkers(g.address, functions, 1);
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--output', out, '--servers', g.address, '--reducers', '2', '--split-size', '2k', '--param', 'mapSleepMs=20', '--no-worker-timeout', '15']);
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'a map task to start', 60_000);
    const killedAt = Date.now();
    worker.child.kill('SIGKILL');

    let seen: NoWorker | undefined;
    let text = '';
    await waitFor(
      async () => {
        const r = await runGmr(['status', out, '--json']);
        if (r.code !== 0) return false;
        const s = JSON.parse(r.stdout) as { outcome: string; noWorker: NoWorker | null };
        if (s.outcome !== 'running') throw new Error(`the run ended before its status said no worker: ${r.stdout}`);
        if (s.noWorker === null) return false;
        seen = s.noWorker;
        text = (await runGmr(['status', out])).stdout;
        return true;
      },
      'gmr status to say no worker serves the run',
      60_000,
    );
    expect(seen?.functions).toEqual(functions);
    expect(seen?.timeoutMs).toBe(15_000);
    // Noticed after the kill (the clocks are this machine's).
    expect(Date.parse(seen!.since)).toBeGreaterThanOrEqual(killedAt - 1000);
    expect(text).toContain(`no worker serves ${functions.join(', ')} since ${seen!.since}; the run fails 15 s after that (--no-worker-timeout)`);

    const result = await exitOf(driver, 90_000);
    expect(result.code, driver.stderr()).toBe(69);
    // The last progress line (drawn when the run stops) says it first.
    const progress = driver.stderr().split('\n').filter((l) => l.includes(' tasks '));
    expect(progress.at(-1)).toMatch(/^no worker for \d+:\d\d \(fails at 0:15\) · map \d+%/);
    const history = readdirSync(join(out, '_history'));
    expect(history).toHaveLength(1);
    const final = JSON.parse(readFileSync(join(out, '_history', history[0]!), 'utf8')) as { state: string; noWorker: NoWorker | null };
    expect(final.state).toBe('failed');
    expect(final.noWorker?.functions).toEqual(functions);
  });
});
