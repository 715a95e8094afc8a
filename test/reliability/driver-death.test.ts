/**
 * A driver that dies (SIGKILL, OOM killer, reboot of the cron box) in embedded mode: its local
 * workers notice (their stdin closes) and exit by themselves; `gmr run … --resume` then finishes
 * the run without running the map tasks that had finished (`_DONE`) again, takes over the dead
 * driver's output lock, and commits the reference output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, checkManifest, committedOutput, exitOf, pidAlive, readManifest, slowCorpus, taskLog, type ManifestAttempt } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

/** Map task folders with a _DONE file, by task index, with the attempts they recorded. */
function doneTasks(out: string): Map<number, ManifestAttempt[]> {
  const done = new Map<number, ManifestAttempt[]>();
  const base = join(out, '_temporary');
  for (const run of existsSync(base) ? readdirSync(base) : []) {
    const runDir = join(base, run);
    if (!existsSync(join(runDir, 'run.json'))) continue;
    for (const task of readdirSync(runDir)) {
      const file = join(runDir, task, '_DONE');
      const match = /^map-(\d+)$/.exec(task);
      if (!match || !existsSync(file)) continue;
      let attempts: Array<ManifestAttempt & { startedAt: number }>;
      try {
        ({ attempts } = JSON.parse(readFileSync(file, 'utf8')) as { attempts: typeof attempts });
      } catch {
        continue; // being written (gmr --resume, too, reruns a task whose _DONE does not parse)
      }
      done.set(Number(match[1]), attempts.map(({ startedAt: _s, ...rest }) => rest));
    }
  }
  return done;
}

/** The driver's local `gmr worker` children (it may have others: tsx starts an esbuild service to compile a .ts job the first time). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'gmr\\.js worker '], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

describe('gmr run killed mid-map, then --resume (embedded)', () => {
  it('local workers exit on their own; the resumed run skips finished map tasks and matches the reference', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const log = join(dir, 'tasks.log');
    const out = join(dir, 'out');
    const args = ['run', SLOW_JOB, '--input', input.dir, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=6', '--quiet'];
    const env = { GMR_TEST_TASK_LOG: log };
    const driver = h.gmr(args, env);

    let workers: number[] = [];
    await waitFor(() => (workers = childrenOf(driver.pid)).length === 2, 'the driver to start its 2 local workers');
    for (const pid of workers) h.adopt(pid);
    await waitFor(() => doneTasks(out).size >= 2, 'two finished map tasks (_DONE)');
    driver.child.kill('SIGKILL');
    expect((await exitOf(driver)).signal).toBe('SIGKILL');
    const done = doneTasks(out);
    const logged = taskLog(log).length;
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
    // The dead driver's lock is still there; the resumed run must take it over.
    expect(JSON.parse(readFileSync(join(out, '_temporary', '_lock'), 'utf8'))).toMatchObject({ pid: driver.pid });

    // Orphaned workers see their stdin close and exit (finishing the task they are in first).
    await waitFor(() => workers.every((pid) => !pidAlive(pid)), `local workers ${workers.join(', ')} to exit`);

    const resumed = h.gmr([...args, '--resume'], env);
    const result = await exitOf(resumed);
    expect(result.code, resumed.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    checkManifest(manifest, input, expected);
    expect(manifest.resumedMapTasks).toBe(done.size);
    expect(manifest.resumedMapTasks).toBeGreaterThanOrEqual(2);
    expect(manifest.mapTasks).toBeGreaterThan(done.size);
    // The finished tasks keep the first run's attempts and were not started again.
    for (const [index, attempts] of done) {
      expect(manifest.tasks.find((t) => t.phase === 'map' && t.index === index)?.attempts).toEqual(attempts);
    }
    const rerun = taskLog(log).slice(logged).filter((e) => e.phase === 'map' && e.what === 'start').map((e) => e.index);
    expect(rerun.filter((i) => done.has(i))).toEqual([]);
    expect(new Set(rerun).size).toBe(manifest.mapTasks - done.size);
    // Nothing of the dead run is left behind.
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', '_history', 'part-00000', 'part-00001']);
  });
});
