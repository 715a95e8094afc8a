/**
 * Every command answers --help with its usage on stdout and exit code 0; usage mistakes exit 64
 * with one line on stderr.
 */
import { describe, expect, it } from 'vitest';
import { runGmr } from '../helpers/gmr-cli.ts';

describe('gmr --help and usage errors', () => {
  it.each([
    [['--help'], /Usage: gmr <command>/],
    [['run', '--help'], /Usage: gmr run <job> --input/],
    [['worker', '--help'], /Usage: gmr worker --servers/],
    [['server', '--help'], /gmr server/],
    [['jobs', '--help'], /Usage: gmr jobs/],
    [['status', '--help'], /Usage: gmr status DIR\|RUNID/],
    [['dashboard', '--help'], /Usage: gmr dashboard --servers LIST/],
  ])('gmr %j prints its usage', async (args, pattern) => {
    const r = await runGmr(args as string[]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(pattern);
  });

  it('lists the built-in jobs', async () => {
    const r = await runGmr(['jobs']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean)).toEqual(['aggregate', 'grep', 'invertedindex', 'sessions', 'topwords', 'wordcount']);
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"; available: run, worker, server, status, dashboard, jobs/],
    [['run'], /needs a job/],
    [['run', 'wordcount'], /needs --input/],
    [['run', 'wordcount', '--input', 'data/sample', '--split-size', 'lots'], /--split-size expects a size like 65536, 512k or 64m, received "lots"/],
    [['run', 'wordcount', '--input', 'data/sample', '--bogus'], /Unknown option '--bogus'/],
    [['run', 'grep', '--input', 'data/sample'], /Missing required param for job grep: pattern/],
    [['worker'], /needs --jobs/],
    [['worker', '--bogus'], /^gmr: Unknown option '--bogus'; see gmr worker --help$/m],
    [['status'], /gmr status needs one output folder or run id, received none/],
    [['dashboard'], /gmr dashboard needs --servers host:port,… or --runs DIR/],
    [['dashboard', '--servers', 'a:1', '--port', 'x'], /--port expects a port 0-65535, received "x"/],
  ])('gmr %j exits 64 (EX_USAGE) with a one-line message', async (args, pattern) => {
    const r = await runGmr(args as string[]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
