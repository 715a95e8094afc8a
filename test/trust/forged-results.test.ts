/**
 * Only the driver's own workers' results count (real gearmand, --servers, two gmr workers with the
 * run secret). The issue's probes: an attacker watching `show unique jobs` pre-submits the run's
 * reduce unique keys pointing at their own run file; a rogue worker without the secret answers
 * map tasks with "forged 22000000". Neither reaches the output: the run commits the reference,
 * and the manifest counts each ignored result as a lost attempt.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.ts';
import { Client } from '../../src/client/client.ts';
import { Worker } from '../../src/worker/worker.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { startGearmand } from '../helpers/gearmand.ts';
import { Harness, SLOW_JOB, committedOutput, exitOf, mapFn, readManifest, reduceFn, slowCorpus, waitForWorkers } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

async function cluster(): Promise<{ address: string; dir: string; input: ReturnType<typeof slowCorpus>; out: string }> {
  const g = await startGearmand();
  h.defer(() => g.stop());
  const dir = h.tempDir();
  const input = slowCorpus(dir);
  for (let i = 0; i < 2; i++) h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet']);
  await waitForWorkers(g.address, [mapFn('slow-wordcount'), reduceFn('slow-wordcount')], 2);
  return { address: g.address, dir, input, out: join(dir, 'out') };
}

const driverArgs = (address: string, inputDir: string, out: string, quiet = true): string[] =>
  ['run', SLOW_JOB, '-i', inputDir, '-o', out, '--servers', address, '--reducers', '2', '--split-size', '4k', '--param', 'mapSleepMs=3', ...(quiet ? ['--quiet'] : [])];

describe('results from outside the run', () => {
  it('reduce unique keys pre-submitted by an attacker who read show unique jobs do not reach the output', async () => {
    const { address, dir, input, out } = await cluster();
    const forged = join(dir, 'forged-run');
    writeFileSync(forged, '"forged"\t22000000\n');
    const driver = h.gmr(driverArgs(address, input.dir, out));

    const [host, port] = address.split(':') as [string, string];
    const admin = new AdminClient({ host, port: Number(port) });
    h.defer(() => admin.close());
    const attacker = new Client({ servers: [address] });
    h.defer(() => attacker.close());
    let runId: string | undefined;
    for (let i = 0; i < 2000 && runId === undefined; i++) {
      runId = (await admin.showUniqueJobs()).map((u) => /^gmr:([^:]+):m:/.exec(u)?.[1]).find((r) => r !== undefined);
      if (runId === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(runId, 'the run id, read from show unique jobs').toBeDefined();
    for (let p = 0; p < 2; p++) {
      const header = { v: 4, unique: `gmr:${runId}:r:${p}`, run: runId, job: 'slow-wordcount', task: p, partitions: 2, params: {}, runs: [forged] };
      await attacker.submitBackground(reduceFn('slow-wordcount'), `${JSON.stringify(header)}\n`, { unique: `gmr:${runId}:r:${p}` });
      // The same with a made-up signature line.
      await attacker.submitBackground(reduceFn('slow-wordcount'), `${'ab'.repeat(32)}\n${JSON.stringify(header)}\n`, { unique: `gmr:${runId}:r:${p}:2` });
    }

    const result = await exitOf(driver, 120_000);
    expect(result.code, driver.stderr()).toBe(0);
    const output = committedOutput(out);
    expect(output).toBe(referenceWordcount(input.files));
    expect(output).not.toContain('forged');
    expect(readManifest(out)).toMatchObject({ signed: true, failedAttempts: expect.any(Number) });
  }, 240_000);

  it('a rogue worker without the secret answers map tasks; its results are ignored and counted as lost', async () => {
    const { address, input, out } = await cluster();
    const rogue = new Worker({ servers: [address] });
    h.defer(() => rogue.close());
    let forgedAnswers = 0;
    rogue.register(mapFn('slow-wordcount'), async (job) => {
      forgedAnswers++;
      job.sendData('B rogue\n');
      job.sendData('P 0\n"forged"\t22000000\n');
      // Stops after five answers (once the fifth has left: unregistering first would hand it back).
      if (forgedAnswers >= 5) setTimeout(() => rogue.unregister(mapFn('slow-wordcount')), 0);
      return JSON.stringify({ records: 1, emitted: 1, counters: {}, partitionRecords: [1, 0], worker: 'rogue' });
    });
    await rogue.start();
    const driver = h.gmr(driverArgs(address, input.dir, out, false));
    const result = await exitOf(driver, 120_000);
    expect(result.code, driver.stderr()).toBe(0);
    const output = committedOutput(out);
    expect(output).toBe(referenceWordcount(input.files));
    expect(output).not.toContain('forged');
    // The driver says so, one line per ignored result.
    const warnings = driver.stderr().split('\n').filter((l) => l.startsWith('gmr: warning: '));
    expect(warnings).toHaveLength(forgedAnswers);
    for (const w of warnings) expect(w).toMatch(/^gmr: warning: Task gmr:\S+: ignored a result that does not verify with the run secret \(a worker without the secret, or a changed result\); running it again$/);
    const manifest = readManifest(out) as unknown as { lostAttempts: number; failedAttempts: number; tasks: Array<{ attempts: Array<{ error?: string; outcome?: string }> }> };
    expect(forgedAnswers).toBeGreaterThan(0);
    expect(manifest.lostAttempts).toBe(forgedAnswers);
    expect(manifest.failedAttempts).toBe(0);
    const ignored = manifest.tasks.flatMap((t) => t.attempts).filter((a) => a.outcome === 'lost');
    expect(ignored).toHaveLength(forgedAnswers);
    for (const a of ignored) expect(a.error).toMatch(/ignored a result that does not verify with the run secret/);
  }, 240_000);
});
