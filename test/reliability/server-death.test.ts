/**
 * Dying job servers: three real gearmands a, b, c; two `gmr worker`s connected to all three; the
 * driver with --servers a,b,c. In the middle of the map phase a is SIGKILLed and b is stopped and
 * started again on the same port (empty: gearmand keeps its queue in RAM). The driver resubmits the
 * tasks it had there (their unique keys make that idempotent), the run completes with the
 * reference output, and the workers reconnect to the new b and register their functions again.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  Harness,
  SLOW_JOB,
  checkManifest,
  committedOutput,
  exitOf,
  mapFn,
  readManifest,
  reduceFn,
  slowCorpus,
  statusRow,
  waitForWorkers,
} from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

const JOB = 'slow-wordcount';

async function gearmand(port?: number): Promise<GearmandHandle> {
  const g = await startGearmand([], port);
  h.defer(() => g.stop());
  return g;
}

describe('job servers that die mid-run (three real gearmands)', () => {
  it('completes on the survivors; workers re-register on a restarted server', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const [a, b, c] = [await gearmand(), await gearmand(), await gearmand()] as [GearmandHandle, GearmandHandle, GearmandHandle];
    const all = [a, b, c].map((s) => s.address).join(',');
    for (let i = 0; i < 2; i++) h.gmr(['worker', '--servers', all, '--jobs', SLOW_JOB, '--input-root', dir]);
    for (const s of [a, b, c]) await waitForWorkers(s.address, [mapFn(JOB), reduceFn(JOB)], 2);

    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', all, '--output', out, '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=8', '--quiet']);
    // Mid-map: a worker runs a task that came from a (the driver hashes task keys over a, b, c).
    await waitFor(async () => ((await statusRow(a.address, mapFn(JOB)))?.running ?? 0) >= 1, 'a map task running from a');
    await a.kill();
    await b.stop();
    const b2 = await gearmand(b.port);

    const result = await exitOf(driver);
    expect(result.code, driver.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    checkManifest(readManifest(out), input, expected);

    // Both workers found the restarted b and registered both functions there again.
    await waitForWorkers(b2.address, [mapFn(JOB), reduceFn(JOB)], 2);
    const row = await statusRow(b2.address, mapFn(JOB));
    expect(row?.workers).toBe(2);
  });

  it('a run whose only job server restarts mid-map waits for it and resubmits its tasks there', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const g = await gearmand();
    for (let i = 0; i < 2; i++) h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet']);
    await waitForWorkers(g.address, [mapFn(JOB), reduceFn(JOB)], 2);
    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', g.address, '--output', out, '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=8', '--quiet']);
    await waitFor(async () => ((await statusRow(g.address, mapFn(JOB)))?.running ?? 0) >= 1, 'a map task running');
    await g.kill(); // its queue was in RAM: every queued and running task is gone with it
    const g2 = await gearmand(g.port);

    const result = await exitOf(driver);
    expect(result.code, driver.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    // The driver waited for the server instead of failing the tasks it had there within milliseconds.
    checkManifest(readManifest(out), input, expected);
    // The workers outlived the outage (with no server up, they used to exit) and registered again.
    await waitForWorkers(g2.address, [mapFn(JOB), reduceFn(JOB)], 2);
    expect((await statusRow(g2.address, mapFn(JOB)))?.workers).toBe(2);
  });
});
