/**
 * Lost workers are not poison (the issue's probe): three external `gmr worker`s, restarted by a
 * supervisor loop as systemd would, are SIGKILLed on a plain timer, one every 0.7 s whatever they
 * are doing (running a task or idle; one still starting is left to start), while a run goes on
 * against real gearmand.
 * Tasks cut short restart on other workers and count as lost attempts, apart from failed ones; the
 * run commits output identical to python3's, and the manifest shows both counts. The kills are
 * bounded (so the run ends on a loaded machine too) and nothing here depends on how fast it goes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { startGearmand } from '../helpers/gearmand.ts';
import { GMR_BIN, userEnv } from '../helpers/gmr-cli.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, committedOutput, exitOf, mapFn, readManifest, reduceFn, slowCorpus, taskLog, waitForWorkers } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

const KILL_EVERY_MS = 700;
/** Enough kills to hit many tasks; few enough that the run ends soon after, however loaded the machine. */
const MAX_KILLS = 12;
/** A worker process younger than this is left to start (see the killer below). */
const MIN_AGE_MS = 1500;

/** A shell loop that restarts `gmr worker` whenever it dies and writes the current worker's pid to a file. */
function supervisedWorker(server: string, root: string, pidFile: string, log: string): void {
  const loop = `while true; do "${process.execPath}" "${GMR_BIN}" worker --servers ${server} --jobs "${SLOW_JOB}" --input-root "${root}" --quiet & echo $! > "${pidFile}"; wait $!; sleep 0.05; done`;
  const child = spawn('bash', ['-c', loop], { detached: true, stdio: 'ignore', env: userEnv({ GMR_TEST_TASK_LOG: log }) });
  h.defer(async () => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  });
}

describe('external workers killed every 0.7 s', () => {
  it('the run commits the reference output; the kills are lost attempts, not failed ones', async () => {
    const g = await startGearmand();
    h.defer(() => g.stop());
    const dir = h.tempDir();
    // 900 lines at 15 ms each: about 13 s of map work for three workers, so the timer's kills
    // land while tasks run; small splits, so many tasks are cut short and restart elsewhere.
    const input = slowCorpus(dir, 7, 900);
    const pidFiles = [0, 1, 2].map((i) => join(dir, `worker-${i}.pid`));
    const log = join(dir, 'tasks.log');
    for (const pidFile of pidFiles) supervisedWorker(g.address, dir, pidFile, log);
    await waitForWorkers(g.address, [mapFn('slow-wordcount'), reduceFn('slow-wordcount')], 3);

    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '-i', input.dir, '-o', out, '--servers', g.address, '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=15', '--task-timeout', '120', '--quiet', '--json']);
    let ended = false;
    const exited = exitOf(driver, 300_000).finally(() => {
      ended = true;
    });
    // The timer starts with the first task, so that the kills fall inside the run.
    await waitFor(() => taskLog(log).length > 0 || ended, 'the first task to start', 120_000);
    let kills = 0;
    // Each tick kills the worker process that has lived longest, whatever it is doing (running a
    // task, idle, waiting for one), unless even that one is younger than MIN_AGE_MS: on a loaded
    // machine a worker takes a while to start, and kills that only ever hit starting processes
    // would show nothing.
    const seen = new Map<number, number>();
    const killer = setInterval(() => {
      if (kills >= MAX_KILLS || ended) return;
      const pids = pidFiles.filter((f) => existsSync(f)).map((f) => Number(readFileSync(f, 'utf8')));
      for (const pid of pids) if (!seen.has(pid)) seen.set(pid, Date.now());
      const oldest = pids.sort((a, b) => (seen.get(a) ?? 0) - (seen.get(b) ?? 0))[0];
      if (oldest === undefined || Date.now() - (seen.get(oldest) ?? 0) < MIN_AGE_MS) return;
      try {
        process.kill(oldest, 'SIGKILL');
        kills++;
      } catch {
        // it just exited; the supervisor is starting the next one
      }
      seen.set(oldest, Number.POSITIVE_INFINITY);
    }, KILL_EVERY_MS);
    let result;
    try {
      result = await exited;
    } finally {
      clearInterval(killer);
    }
    expect(result.code, driver.stderr()).toBe(0);
    expect(kills).toBeGreaterThan(0);
    expect(committedOutput(out)).toBe(referenceWordcount(input.files));
    const manifest = readManifest(out) as unknown as { lostAttempts: number; failedAttempts: number; tasks: Array<{ attempts: Array<{ outcome?: string }> }> };
    // Killed workers are never charged as failures in job code ...
    expect(manifest.failedAttempts).toBe(0);
    expect(manifest.tasks.flatMap((t) => t.attempts).filter((a) => a.outcome === 'failed')).toEqual([]);
    // ... and the tasks they were running are counted as lost (a task that a kill cut short).
    const cut = taskLog(log).filter((e) => e.what === 'start').length - taskLog(log).filter((e) => e.what === 'end').length;
    expect(cut).toBeGreaterThan(0);
    expect(manifest.lostAttempts).toBeGreaterThanOrEqual(cut);
    expect(manifest.lostAttempts).toBeLessThanOrEqual(kills);
  }, 400_000);
});
