/**
 * Nothing lost when a worker dies: real gearmand, two `gmr worker` processes, a slow job. One worker
 * is SIGKILLed while it runs a map task (then, in a second run, a reduce task); gearmand hands the
 * job to the other worker, whose new `B` frame makes the driver drop what the dead one had sent.
 * The output equals python3's reference and the manifest shows the restart, with every record
 * counted once.
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

async function killWorkerMidTask(phase: 'map' | 'reduce', params: string[]): Promise<void> {
  const dir = h.tempDir();
  const input = slowCorpus(dir);
  const expected = referenceWordcount(input.files);
  const log = join(dir, 'tasks.log');
  const g = await startGearmand();
  h.defer(() => g.stop());
  const workers = [0, 1].map(() => h.gmr(['worker', '--servers', g.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet'], { GMR_TEST_TASK_LOG: log }));
  await waitForWorkers(g.address, [mapFn(JOB), reduceFn(JOB)], 2);

  const out = join(dir, 'out');
  const driver = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', g.address, '--output', out, '--reducers', '2', '--split-size', '4k', ...params, '--quiet']);

  // Mid-task: the server says a task of this phase runs, and the task log names the worker running it.
  const fn = phase === 'map' ? mapFn(JOB) : reduceFn(JOB);
  let victim: (typeof workers)[number] | undefined;
  let task = -1;
  await waitFor(
    async () => {
      if (((await statusRow(g.address, fn))?.running ?? 0) < 1) return false;
      const events = taskLog(log);
      for (const w of workers) {
        const open = openTasks(events, w.pid, phase);
        if (open.length > 0) {
          victim = w;
          task = open[0] as number;
          return true;
        }
      }
      return false;
    },
    `a ${phase} task running on a worker`,
  );
  const killed = victim as (typeof workers)[number];
  killed.child.kill('SIGKILL');
  expect((await exitOf(killed)).signal).toBe('SIGKILL');

  const result = await exitOf(driver);
  expect(result.code, driver.stderr()).toBe(0);
  expect(committedOutput(out)).toBe(expected);
  const manifest = readManifest(out);
  checkManifest(manifest, input, expected);

  // The killed task was finished by the surviving worker, in the same attempt, after a restart.
  const survivor = workers.find((w) => w !== killed) as (typeof workers)[number];
  expect(taskLog(log)).toContainEqual({ pid: survivor.pid, phase, index: task, what: 'end' });
  expect(openTasks(taskLog(log), killed.pid, phase)).toEqual([task]);
  const record = manifest.tasks.find((t) => t.phase === phase && t.index === task);
  expect(record?.attempts).toHaveLength(1);
  expect(record?.attempts[0]?.restarts).toBeGreaterThanOrEqual(1);
  expect(record?.attempts[0]?.error).toBeUndefined();
}

describe('a gmr worker SIGKILLed mid-task (real gearmand)', () => {
  it('during the map phase: the task is restarted on the other worker, output == reference', async () => {
    await killWorkerMidTask('map', ['--param', 'mapSleepMs=8']);
  });

  it('during the reduce phase: the task is restarted on the other worker, output == reference', async () => {
    await killWorkerMidTask('reduce', ['--param', 'mapSleepMs=0', '--param', 'reduceSleepMs=150']);
  });
});
