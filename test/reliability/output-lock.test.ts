/**
 * Cron overlap: a nightly run is still going when the next one starts on the same output folder.
 * The second refuses at once (exit 75, EX_TEMPFAIL, naming the run that holds the folder) and touches nothing;
 * the first completes with the reference output.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, checkManifest, committedOutput, exitOf, readManifest, slowCorpus, taskLog } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

describe('two runs on one output folder (embedded)', () => {
  it('the second exits 1 with "Another gmr run … is writing to …"; the first completes', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const log = join(dir, 'tasks.log');
    const out = join(dir, 'out');
    const args = ['run', SLOW_JOB, '--input', input.dir, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '4k', '--param', 'mapSleepMs=5', '--quiet'];
    const first = h.gmr(args, { GMR_TEST_TASK_LOG: log });
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'the first run to start a map task');
    const lock = readFileSync(join(out, '_temporary', '_lock'), 'utf8');
    const runs = readdirSync(join(out, '_temporary')).filter((e) => e !== '_lock');

    const second = h.gmr(args);
    const refused = await exitOf(second);
    expect(refused.code).toBe(75);
    const message = `Another gmr run (pid ${first.pid} on `;
    expect(second.stderr()).toContain(message);
    expect(second.stderr()).toContain(`is writing to ${out}; refusing to start a second one`);
    // It left the first run's lock and run folder alone.
    expect(readFileSync(join(out, '_temporary', '_lock'), 'utf8')).toBe(lock);
    expect(readdirSync(join(out, '_temporary')).filter((e) => e !== '_lock')).toEqual(runs);
    expect(first.child.exitCode).toBeNull();

    const result = await exitOf(first);
    expect(result.code, first.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    checkManifest(readManifest(out), input, expected);
    expect(existsSync(join(out, '_temporary'))).toBe(false);
  });
});
