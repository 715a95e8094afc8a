/**
 * prestart-worker: `gmr run`'s first local worker starts before the driver has loaded, waits for
 * its arguments on stdin, and serves the run the local cluster then starts; a run that fails
 * before or after the cluster claims it (a usage error, an unknown job, a missing input) leaves no
 * worker behind; a bad launch line is a one-line usage error.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../../src/mapreduce/driver/run-job.ts';
import { claimPrestartedWorker, prestartWorker, startsLocalWorkers } from '../../../src/mapreduce/driver/prestart-worker.ts';
import { readWorkerLaunch } from '../../../src/mapreduce/driver/worker-launch.ts';
import { GMR_BIN, outcomeOf, runGmr, spawnGmr, userEnv } from '../../helpers/gmr-cli.ts';

let dir: string;
let input: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-prestart-'));
  input = join(dir, 'tiny.txt');
  writeFileSync(input, 'the quick brown fox\nthe end\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** word<TAB>count lines, sorted as the driver prints them, by awk and sort (not by gmr). */
function reference(path: string): string {
  return execFileSync('sh', ['-c', `awk '{for (i = 1; i <= NF; i++) c[$i]++} END {for (w in c) print w "\\t" c[w]}' "$1" | LC_ALL=C sort`, 'sh', path], { encoding: 'utf8' });
}

/** Processes whose command line holds `gmr.js worker --args-on-stdin` and whose working folder is `cwd`. */
function prestartedIn(cwd: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes('--args-on-stdin') && readlinkSync(`/proc/${name}/cwd`) === cwd) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function noneLeftIn(cwd: string): Promise<number[]> {
  let left = prestartedIn(cwd);
  // A worker that was told to stop takes a moment; one that leaked stays, and the test fails.
  for (let i = 0; i < 300 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = prestartedIn(cwd);
  }
  return left;
}

describe('startsLocalWorkers', () => {
  it('is true for gmr run without --servers and --help, false otherwise', () => {
    expect(startsLocalWorkers(['run', 'wordcount', '--input', 'x'])).toBe(true);
    expect(startsLocalWorkers(['run', '--mapper', 'cat', '--input', 'x', '--', '--servers'])).toBe(true);
    expect(startsLocalWorkers(['run', 'wordcount', '--input', 'x', '--servers', 'a:4730'])).toBe(false);
    expect(startsLocalWorkers(['run', 'wordcount', '--servers=a:4730'])).toBe(false);
    expect(startsLocalWorkers(['run', 'wordcount', '--help'])).toBe(false);
    expect(startsLocalWorkers(['run', '-h'])).toBe(false);
    expect(startsLocalWorkers(['worker', '--jobs', 'wordcount'])).toBe(false);
    expect(startsLocalWorkers([])).toBe(false);
  });
});

describe('a prestarted worker', () => {
  it('serves the run the local cluster starts later (2 reducers), and the cluster ends it', async () => {
    const child = prestartWorker(GMR_BIN, ['run', 'wordcount', '--input', input]);
    expect(child?.pid).toBeGreaterThan(0);
    // It boots and waits on its stdin for its arguments, with no job server anywhere yet.
    await new Promise((r) => setTimeout(r, 1500));
    expect(child?.exitCode).toBeNull();
    let text = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const summary = await runJob({ job: 'wordcount', input: [input], workers: 2, reducers: 2, stdout });
    expect(summary.reduceTasks).toBe(2);
    expect(text).toBe(reference(input));
    // Claimed by the run's cluster, so closed with it: an unclaimed one would still be waiting.
    expect(child?.exitCode !== null || child?.signalCode !== null).toBe(true);
    // It was the one: nothing is left to claim.
    expect(claimPrestartedWorker({ argv: [], cwd: dir, secret: null })).toBeUndefined();
  }, 120_000);

  it('is not left behind by a run that fails on a flag, an unknown job or a missing input', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const cases: Array<[string[], number]> = [
      [['run', 'wordcount', '--input', input, '--bogus-flag'], 64],
      [['run', 'no-such-job', '--input', input], 64],
      [['run', 'wordcount', '--input', join(dir, 'missing.txt')], 66],
    ];
    for (const [args, code] of cases) {
      const r = await runGmr(args, { cwd, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await noneLeftIn(cwd)).toEqual([]);
  }, 180_000);

  it('ends when the driver is killed before it claimed it', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    // SIGKILL as soon as the worker is there: no handler of the driver ends it, only its stdin closing.
    const child = spawnGmr(['run', 'wordcount', '--input', input, '--quiet'], { cwd });
    for (let i = 0; i < 600 && prestartedIn(cwd).length === 0 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await outcomeOf(child, 60_000);
    expect(await noneLeftIn(cwd)).toEqual([]);
  }, 120_000);
});

describe('readWorkerLaunch', () => {
  /** The launch read from a descriptor of a file holding `text` (a pipe in the CLI test below). */
  const fed = async (text: string | Buffer): Promise<ReturnType<typeof readWorkerLaunch>> => {
    const file = join(dir, `launch-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, text);
    const fd = openSync(file, 'r');
    try {
      return await readWorkerLaunch(fd);
    } finally {
      closeSync(fd);
    }
  };

  it('reads the first line (a character split across reads whole); undefined when the input ends first', async () => {
    expect(await fed('{"argv":["--jobs","wordcount"],"cwd":"/tmp","secret":null}\nignored')).toEqual({ argv: ['--jobs', 'wordcount'], cwd: '/tmp', secret: null });
    // 64 KiB reads: "é" (2 bytes) straddles the first two.
    const cwd = `/${'a'.repeat(64 * 1024 - 34)}é`;
    expect((await fed(`{"argv":[],"secret":null,"cwd":"${cwd}"}\n`))?.cwd).toBe(cwd);
    expect(await fed('')).toBeUndefined();
    expect(await fed('{"argv":[]')).toBeUndefined();
  });

  it('refuses a line that is not the launch object, or asks for --args-on-stdin again', async () => {
    await expect(fed('hello\n')).rejects.toThrow(/--args-on-stdin expects a JSON line .*received "hello"/);
    await expect(fed('{"argv":[1],"cwd":"/","secret":null}\n')).rejects.toThrow(/expects a JSON line/);
    await expect(fed('{"argv":[],"cwd":"/","secret":5}\n')).rejects.toThrow(/expects a JSON line/);
    await expect(fed('{"argv":["--args-on-stdin"],"cwd":"/","secret":null}\n')).rejects.toThrow(/cannot ask for --args-on-stdin again/);
    await expect(fed(Buffer.alloc(2 << 20, 0x20))).rejects.toThrow(/more than 1 MiB without a newline/);
  });

  it('gmr worker --args-on-stdin: a bad line is a one-line usage error (exit 64), other flags beside it too', async () => {
    const child = spawn(process.execPath, [GMR_BIN, 'worker', '--args-on-stdin'], { stdio: ['pipe', 'pipe', 'pipe'], env: userEnv() });
    const outcome = outcomeOf(child, 60_000);
    child.stdin?.end('not json\n');
    const r = await outcome;
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gmr: --args-on-stdin expects a JSON line/)]);
    const both = await runGmr(['worker', '--args-on-stdin', '--jobs', 'wordcount']);
    expect(both.code).toBe(64);
    expect(both.stderr).toMatch(/--args-on-stdin takes no other arguments/);
  }, 120_000);
});
