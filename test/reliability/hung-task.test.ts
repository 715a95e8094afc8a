/**
 * A hung task does not hang the run: a mapper blocks its worker process (it stays connected, so
 * gearmand sees nothing wrong); with --task-timeout the driver abandons that attempt and submits
 * the task again under a new unique key, which the other worker runs. The output is identical to
 * the reference and the manifest shows the timed-out attempt followed by a successful one.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand } from '../helpers/gearmand.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { HANG_JOB, Harness, SLOW_JOB, checkManifest, committedOutput, exitOf, mapFn, readManifest, reduceFn, slowCorpus, waitForWorkers } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

describe('a task that hangs (real gearmand, --task-timeout)', () => {
  it('is abandoned after the timeout and run again; output == reference', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    // One line that makes the first worker to read it hang (the marker file is removed as it hangs).
    appendFileSync(input.files[0] as string, 'the worker will HANG here\n');
    input.records += 1;
    const expected = referenceWordcount(input.files);
    const marker = join(dir, 'hang-once');
    writeFileSync(marker, '');
    const g = await startGearmand();
    h.defer(() => g.stop());
    const env = { GMR_TEST_HANG_MARKER: marker, GMR_TEST_HANG_MS: '40000' };
    for (let i = 0; i < 2; i++) h.gmr(['worker', '--servers', g.address, '--jobs', HANG_JOB, '--input-root', dir, '--quiet'], env);
    await waitForWorkers(g.address, [mapFn('hang-wordcount'), reduceFn('hang-wordcount')], 2);

    const out = join(dir, 'out');
    const driver = h.gmr(['run', HANG_JOB, '--input', input.dir, '--servers', g.address, '--output', out, '--reducers', '2', '--split-size', '4k', '--task-timeout', '2', '--quiet']);
    const result = await exitOf(driver);
    expect(result.code, driver.stderr()).toBe(0);
    expect(existsSync(marker)).toBe(false); // it did hang

    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    checkManifest(manifest, input, expected);
    const retried = manifest.tasks.filter((t) => t.attempts.length > 1);
    expect(retried).toHaveLength(1);
    const [task] = retried;
    expect(task?.phase).toBe('map');
    expect(task?.attempts).toHaveLength(2);
    expect(task?.attempts[0]?.error).toMatch(/attempt 1 made no progress \(no WORK_STATUS, no data\) for --task-timeout \(2000 ms\) on a worker; abandoned/);
    expect(task?.attempts[1]).toMatchObject({ attempt: 2 });
    expect(task?.attempts[1]?.error).toBeUndefined();
  });

  it('counts from the start of the task, not from the submit: tasks waiting in the queue are not abandoned', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const g = await startGearmand();
    h.defer(() => g.stop());
    // One worker, and the driver submits every task at once (--workers 8 sets its fan-out), so most
    // tasks wait in gearmand's queue far longer than the timeout, though each runs well within it.
    h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet']);
    await waitForWorkers(g.address, [mapFn('slow-wordcount'), reduceFn('slow-wordcount')], 1);
    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', g.address, '--output', out, '--workers', '8', '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=4', '--task-timeout', '1.5', '--quiet']);
    const result = await exitOf(driver);
    expect(result.code, driver.stderr()).toBe(0);
    // Nothing on stderr with --quiet (16 tasks in flight once printed a MaxListenersExceededWarning).
    expect(driver.stderr()).toBe('');
    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    checkManifest(manifest, input, expected);
    expect(manifest.mapTasks).toBeGreaterThanOrEqual(8);
    expect(manifest.tasks.filter((t) => t.attempts.length > 1)).toEqual([]);
  });
});
