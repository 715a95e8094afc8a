/**
 * A run whose only worker is SIGKILLed (issue 11, item 5): instead of waiting forever with a frozen
 * display, the driver says at once that no worker serves the job, and fails after
 * --no-worker-timeout with exit 69 and how to start a worker (real gearmand, admin status).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand } from '../helpers/gearmand.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, exitOf, mapFn, reduceFn, slowCorpus, taskLog, waitForWorkers } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

describe('the only worker dies', () => {
  it('fails within --no-worker-timeout with exit 69 and the command that starts a worker', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const g = await startGearmand();
    h.defer(() => g.stop());
    const log = join(dir, 'tasks.log');
    const worker = h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--quiet'], { GMR_TEST_TASK_LOG: log });
    await waitForWorkers(g.address, [mapFn('slow-wordcount'), reduceFn('slow-wordcount')], 1);
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', g.address, '--reducers', '2', '--split-size', '2k', '--param', 'mapSleepMs=20', '--no-worker-timeout', '4']);
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'a map task to start');
    worker.child.kill('SIGKILL');
    const result = await exitOf(driver, 90_000);
    expect(result.code, driver.stderr()).toBe(69);
    const how = `gmr worker --servers ${g.address} --jobs ${SLOW_JOB}`;
    // Said at once (before the failure), then the failure in one line.
    expect(driver.stderr()).toContain(`gmr: no worker serves gmr.map.slow-wordcount, gmr.reduce.slow-wordcount on ${g.address}; the run fails in 4 s (--no-worker-timeout) unless one comes: start one: ${how}`);
    const last = driver.stderr().trim().split('\n').pop() ?? '';
    expect(last).toMatch(new RegExp(`^gmr: .*No worker served gmr\\.map\\.slow-wordcount, gmr\\.reduce\\.slow-wordcount on ${g.address.replace(/\./g, '\\.')} for \\d+ s \\(--no-worker-timeout\\); start one: `));
  });
});
