/**
 * End to end: a run started in the background with --output (the slow wordcount fixture), watched
 * from a second process with `gmr status --json` until it is done: progress that only grows and
 * ends at the totals, and the outcome; the same while a local worker is SIGKILLed (its restart
 * counts as an attempt and is named in the messages), and for a killed driver (abandoned, with the
 * command that resumes it, which then commits).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGmr } from '../helpers/gmr-cli.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, committedOutput, exitOf, pidAlive, slowCorpus, taskLog, type Proc } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

interface StatusJson {
  runId: string;
  outcome: string;
  phase: string;
  tasks: { done: number; total: number; running: number; failed: number };
  bytes: { done: number; total: number };
  attempts: number;
  exitCode: number | null;
  messages: Array<{ task: string; text: string }>;
  driver: { pid: number; gone: boolean };
  resume: string | null;
}

async function status(out: string): Promise<StatusJson | undefined> {
  const r = await runGmr(['status', out, '--json']);
  if (r.code !== 0) return undefined; // the run folder is not there yet
  return JSON.parse(r.stdout) as StatusJson;
}

/** Reads `gmr status --json` until the run is no longer running (or `stop` says so); every read. */
async function watch(out: string, stop: (s: StatusJson) => boolean = () => false, limitMs = 120_000): Promise<StatusJson[]> {
  const seen: StatusJson[] = [];
  const deadline = Date.now() + limitMs;
  for (;;) {
    const s = await status(out);
    if (s) {
      seen.push(s);
      if (s.outcome !== 'running' || stop(s)) return seen;
    }
    if (Date.now() > deadline) throw new Error(`run still going after ${limitMs} ms: ${JSON.stringify(seen.at(-1))}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function expectGrowing(seen: StatusJson[], pick: (s: StatusJson) => number, what: string): void {
  const values = seen.map(pick);
  for (let i = 1; i < values.length; i++) expect(values[i], `${what} went from ${values[i - 1]} to ${values[i]}: ${values.join(' ')}`).toBeGreaterThanOrEqual(values[i - 1] as number);
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'gmr\\.js worker '], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function start(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): { proc: Proc; out: string; args: string[]; expected: string } {
  const input = slowCorpus(dir);
  const out = join(dir, 'out');
  const args = ['run', SLOW_JOB, '--input', input.dir, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=5', '--quiet', ...extra];
  return { proc: h.gmr(args, env), out, args, expected: referenceWordcount(input.files) };
}

describe('gmr status --json watching a background run', () => {
  it('progress only grows, ends at the totals, and the outcome is committed with exit code 0', async () => {
    const { proc, out, expected } = start(h.tempDir());
    const seen = await watch(out);
    expect((await exitOf(proc)).code, proc.stderr()).toBe(0);
    const last = seen.at(-1) as StatusJson;
    expect(seen.filter((s) => s.outcome === 'running' && s.tasks.done < s.tasks.total).length, 'reads while it ran').toBeGreaterThanOrEqual(2);
    expectGrowing(seen, (s) => s.tasks.done, 'tasks done');
    expectGrowing(seen, (s) => s.bytes.done, 'bytes done');
    expectGrowing(seen, (s) => s.attempts, 'attempts');
    expect(last.outcome).toBe('committed');
    expect(last.exitCode).toBe(0);
    expect(last.tasks.done).toBe(last.tasks.total);
    expect(last.tasks.total).toBeGreaterThanOrEqual(4);
    expect(last.bytes.done).toBe(last.bytes.total);
    expect(last.bytes.total).toBeGreaterThan(0);
    expect(committedOutput(out)).toBe(expected);
    // The run stays in the folder's history.
    const all = await runGmr(['status', out, '--all']);
    expect(all.stdout).toContain(`committed  ${last.runId}  slow-wordcount`);
  }, 180_000);

  it('a local worker SIGKILLed mid-map: the run commits, its restart counts as an attempt and shows in the messages', async () => {
    const dir = h.tempDir();
    const log = join(dir, 'tasks.log');
    const { proc, out, expected } = start(dir, [], { GMR_TEST_TASK_LOG: log });
    let workers: number[] = [];
    await waitFor(() => (workers = childrenOf(proc.pid)).length === 2, 'the driver to start its 2 local workers', 60_000);
    for (const pid of workers) h.adopt(pid);
    let victim: number | undefined;
    await waitFor(() => (victim = taskLog(log).find((e) => e.phase === 'map' && e.what === 'start' && workers.includes(e.pid))?.pid) !== undefined, 'a worker to start a map task', 60_000);
    const before = await watch(out, () => true);
    process.kill(victim as number, 'SIGKILL');
    await waitFor(() => !pidAlive(victim as number), 'the killed worker to be gone');
    const seen = [...before, ...(await watch(out))];
    expect((await exitOf(proc)).code, proc.stderr()).toBe(0);
    const last = seen.at(-1) as StatusJson;
    expectGrowing(seen, (s) => s.tasks.done, 'tasks done');
    expectGrowing(seen, (s) => s.attempts, 'attempts');
    expect(last.outcome).toBe('committed');
    expect(last.tasks.done).toBe(last.tasks.total);
    expect(last.attempts).toBeGreaterThan(last.tasks.total);
    expect(last.messages.some((m) => /^map \d+$/.test(m.task) && m.text.includes('a worker died or went away')), JSON.stringify(last.messages)).toBe(true);
    expect(committedOutput(out)).toBe(expected);
  }, 180_000);

  it('a SIGKILLed driver: "abandoned" with the command that resumes it; that command commits the run', async () => {
    const { proc, out, args, expected } = start(h.tempDir());
    let workers: number[] = [];
    await waitFor(() => (workers = childrenOf(proc.pid)).length === 2, 'the driver to start its 2 local workers', 60_000);
    for (const pid of workers) h.adopt(pid);
    const running = await watch(out, (s) => s.tasks.done >= 1);
    expect(running.at(-1)?.outcome).toBe('running');
    proc.child.kill('SIGKILL');
    expect((await exitOf(proc)).signal).toBe('SIGKILL');
    const dead = (await status(out)) as StatusJson;
    expect(dead.outcome).toBe('abandoned');
    expect(dead.driver).toMatchObject({ pid: proc.pid, gone: true });
    expect(dead.resume).toBe(`gmr run ${args.slice(1).join(' ')} --resume`);
    const text = await runGmr(['status', out]);
    expect(text.stdout).toContain(`driver pid ${proc.pid} on `);
    expect(text.stdout).toContain('is gone (killed?)');
    expect(text.stdout).toContain('resume with: gmr run ');
    const watchDead = await runGmr(['status', out, '--watch']);
    expect(watchDead.code).toBe(1);

    await waitFor(() => workers.every((pid) => !pidAlive(pid)), 'the orphaned workers to exit', 60_000);
    const resumed = h.gmr([...args, '--resume']);
    expect((await exitOf(resumed, 120_000)).code, resumed.stderr()).toBe(0);
    const done = (await status(out)) as StatusJson;
    expect(done.outcome).toBe('committed');
    expect(done.runId).toBe(dead.runId);
    expect(committedOutput(out)).toBe(expected);
  }, 240_000);
});
