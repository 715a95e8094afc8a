/**
 * Ctrl-C and SIGTERM (issue 11, item 6): a run without --output removes its temporary folder and
 * exits 130; with --output it keeps the finished map tasks, exits 143 and prints how to resume;
 * the resumed run commits the reference output and removes earlier abandoned run folders.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, committedOutput, exitOf, slowCorpus, taskLog } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

const slow = ['--workers', '2', '--reducers', '2', '--split-size', '2k', '--param', 'mapSleepMs=20'];

describe('a run stopped by a signal', () => {
  it('SIGINT without --output: exit 130 and no gmr-run-* folder left behind', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const log = join(dir, 'tasks.log');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, ...slow, '--quiet'], { TMPDIR: tmp, GMR_TEST_TASK_LOG: log });
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'a map task to start');
    expect(readdirSync(tmp).filter((e) => e.startsWith('gmr-run-'))).toHaveLength(1);
    driver.child.kill('SIGINT');
    const result = await exitOf(driver, 60_000);
    expect(result.code, driver.stderr()).toBe(130);
    expect(driver.stderr()).toContain('gmr: SIGINT: stopping the run');
    expect(driver.stderr()).not.toContain('resume with');
    expect(readdirSync(tmp).filter((e) => e.startsWith('gmr-run-'))).toEqual([]);
  });

  it('SIGTERM with --output: exit 143, the resume hint, and --resume commits and cleans up', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const out = join(dir, 'out');
    const log = join(dir, 'tasks.log');
    const args = ['run', SLOW_JOB, '--input', input.dir, '--output', out, ...slow, '--quiet'];
    const driver = h.gmr(args, { GMR_TEST_TASK_LOG: log });
    await waitFor(() => taskLog(log).filter((e) => e.phase === 'map' && e.what === 'end').length >= 2, 'two map tasks to finish');
    driver.child.kill('SIGTERM');
    const result = await exitOf(driver, 60_000);
    expect(result.code, driver.stderr()).toBe(143);
    const hint = driver.stderr().trim().split('\n').pop() ?? '';
    expect(hint).toBe(`gmr: the finished map tasks are kept in ${out}/_temporary; resume with: gmr run ${args.slice(1).join(' ')} --resume`);
    const runs = readdirSync(join(out, '_temporary')).filter((e) => !e.startsWith('_'));
    expect(runs).toHaveLength(1);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);

    // An older run folder nobody will resume (its driver was SIGKILLed long ago).
    mkdirSync(join(out, '_temporary', 'oldrun', 'map-00000'), { recursive: true });
    writeFileSync(join(out, '_temporary', 'oldrun', 'run.json'), '{}');
    const resumed = h.gmr([...args, '--resume']);
    expect((await exitOf(resumed, 120_000)).code, resumed.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(referenceWordcount(input.files));
    expect(existsSync(join(out, '_temporary'))).toBe(false);
  });

  it('--deadline: a run that has not committed in time stops with exit 75 (retry later) and the resume hint', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--output', out, ...slow, '--quiet', '--deadline', '3']);
    const result = await exitOf(driver, 60_000);
    expect(result.code, driver.stderr()).toBe(75);
    expect(driver.stderr()).toContain('gmr: Job slow-wordcount failed: The run did not commit within --deadline 3 s; stopped\n');
    expect(driver.stderr()).toContain('resume with: gmr run');
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
  });
});
