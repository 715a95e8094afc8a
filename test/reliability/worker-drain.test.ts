/**
 * SIGTERM drains a worker (what a deploy or `systemctl stop` does): the task it is running is
 * finished and delivered (no restart in the manifest), it takes no new task, and exits 0. The run
 * waits for a worker; one started afterwards finishes the rest, and the output is the reference.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGearmand } from '../helpers/gearmand.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  Harness,
  SLOW_JOB,
  checkManifest,
  committedOutput,
  exitOf,
  mapFn,
  openTasks,
  readManifest,
  reduceFn,
  slowCorpus,
  statusRow,
  taskLog,
  waitForWorkers,
} from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

const JOB = 'slow-wordcount';

describe('gmr worker on SIGTERM (real gearmand)', () => {
  it('finishes its running task, takes no other, exits 0; a later worker finishes the run', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const log = join(dir, 'tasks.log');
    const g = await startGearmand();
    h.defer(() => g.stop());
    const first = h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir], { GMR_TEST_TASK_LOG: log });
    await waitForWorkers(g.address, [mapFn(JOB), reduceFn(JOB)], 1);

    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', g.address, '--output', out, '--reducers', '2', '--split-size', '4k', '--param', 'mapSleepMs=8', '--quiet']);
    await waitFor(
      async () => ((await statusRow(g.address, mapFn(JOB)))?.running ?? 0) >= 1 && openTasks(taskLog(log), first.pid, 'map').length === 1,
      'a map task running on the first worker',
    );
    const [task] = openTasks(taskLog(log), first.pid, 'map');
    first.child.kill('SIGTERM');
    const exit = await exitOf(first);
    expect(exit.code, first.stderr()).toBe(0);
    expect(first.stderr()).toContain('draining: finishing running tasks');
    // It ran exactly the one task it had, to its end.
    expect(taskLog(log).filter((e) => e.pid === first.pid)).toEqual([
      { pid: first.pid, phase: 'map', index: task, what: 'start' },
      { pid: first.pid, phase: 'map', index: task, what: 'end' },
    ]);
    // The run is still going (nothing else can serve it) and no task is running.
    expect(driver.child.exitCode).toBeNull();
    expect((await statusRow(g.address, mapFn(JOB)))?.workers ?? 0).toBe(0);

    const second = h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet'], { GMR_TEST_TASK_LOG: log });
    const result = await exitOf(driver);
    expect(result.code, driver.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    checkManifest(manifest, input, expected);
    // The drained task was delivered once, by the first worker: one attempt, no restart.
    const record = manifest.tasks.find((t) => t.phase === 'map' && t.index === task);
    expect(record?.attempts).toEqual([expect.objectContaining({ attempt: 1 })]);
    expect(record?.attempts[0]?.restarts).toBeUndefined();
    expect(manifest.tasks.every((t) => t.attempts.length === 1 && t.attempts[0]?.restarts === undefined)).toBe(true);
    // Every other task was the second worker's.
    const byPid = taskLog(log).filter((e) => e.what === 'end');
    expect(byPid.filter((e) => e.pid === second.pid)).toHaveLength(manifest.mapTasks + manifest.reduceTasks - 1);
  });
});
