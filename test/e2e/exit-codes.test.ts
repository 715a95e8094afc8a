/**
 * Exit codes a cron wrapper can act on (issue 11, item 4; BSD sysexits.h), each error in one line
 * without a stack, and empty input files committing an empty output with a warning (item 9).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gearmand.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const THROWS = join(REPO_ROOT, 'test/fixtures/jobs/throws.ts');
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-exit-'));
  input = join(dir, 'in.txt');
  writeFileSync(input, 'one two\nboom here\nthree\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--workers', '2', '--reducers', '2', '--quiet'];

/** One line on stderr, `gmr: …`, and no stack frame. */
function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
  expect(stderr).toMatch(/^gmr: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('exit codes', () => {
  it('1: a task that keeps failing', async () => {
    const r = await runGmr(['run', THROWS, '--input', input, '--max-attempts', '1', ...base]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain('exploded on "boom here"');
  });

  it('64: an unknown flag and a bad --servers address', async () => {
    const flag = await runGmr(['run', 'wordcount', '--input', input, '--bogus']);
    expect(flag.code).toBe(64);
    expectOneLine(flag.stderr);
    const servers = await runGmr(['run', 'wordcount', '--input', input, '--servers', 'foo:bar', ...base]);
    expect(servers.code).toBe(64);
    expect(servers.stderr).toBe('gmr: --servers expects host or host:port (port 1-65535), comma-separated, received "foo:bar"\n');
  });

  it('66: a missing input and a glob that matches nothing', async () => {
    const missing = await runGmr(['run', 'wordcount', '--input', join(dir, 'nope.txt'), ...base]);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toBe(`gmr: Input path not found: ${join(dir, 'nope.txt')}\n`);
    const glob = await runGmr(['run', 'wordcount', '--input', join(dir, '*.gz'), ...base]);
    expect(glob.code).toBe(66);
    expectOneLine(glob.stderr);
  });

  it('69: job servers that cannot be reached', async () => {
    const port = await freePort();
    const r = await runGmr(['run', 'wordcount', '--input', input, '--servers', `127.0.0.1:${port}`, ...base]);
    expect(r.code).toBe(69);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`127.0.0.1:${port} cannot be asked for its status`);
    expect(r.stderr).toContain(`gmr worker --servers 127.0.0.1:${port} --jobs wordcount`);
  });

  it('73: an output folder that cannot be created, without "unexpected error" or a stack', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', input, '--output', join(input, 'out'), ...base]);
    expect(r.code).toBe(73);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`Cannot use ${join(input, 'out')} as the output folder: ENOTDIR`);
    expect(r.stderr).not.toContain('unexpected');
  });

  it('73: an output folder under /proc fails with one line instead of hanging (Node\'s recursive mkdir loops there)', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', input, '--output', '/proc/gmr-no-such/out', ...base], { timeoutMs: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(73);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain('/proc/gmr-no-such');
  });

  it('75: another live run holds the output lock (retry later)', async () => {
    const out = join(dir, 'locked');
    mkdirSync(join(out, '_temporary'), { recursive: true });
    // This test process is alive on this host: the lock is held.
    const lock = { pid: process.pid, host: hostname(), runId: 'other', startedAt: new Date().toISOString() };
    writeFileSync(join(out, '_temporary', '_lock'), JSON.stringify(lock));
    const r = await runGmr(['run', 'wordcount', '--input', input, '--output', out, ...base]);
    expect(r.code).toBe(75);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain(`Another gmr run (pid ${process.pid}`);
    expect(JSON.parse(readFileSync(join(out, '_temporary', '_lock'), 'utf8'))).toEqual(lock);
  });

  it('--help lists the codes', async () => {
    const r = await runGmr(['run', '--help']);
    for (const code of ['0 ', '1 ', '64', '66', '69', '70', '73', '75']) expect(r.stdout).toMatch(new RegExp(`^  ${code}`, 'm'));
  });
});

describe('empty input files', () => {
  it('commit an empty output with a warning (exit 0); a folder with no file stays an input error', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'a.txt'), '');
    writeFileSync(join(empty, 'sub', 'b.txt'), '');
    const out = join(dir, 'empty-out');
    const r = await runGmr(['run', 'wordcount', '--input', empty, '--output', out, '--workers', '2', '--reducers', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`gmr: warning: the input is empty (2 files, 0 bytes): ${empty}; the output will be empty`);
    expect(readdirSync(out).filter((e) => e.startsWith('part-')).sort()).toEqual(['part-00000', 'part-00001']);
    expect(readdirSync(out)).toContain('_SUCCESS');
    expect(readFileSync(join(out, 'part-00000'), 'utf8') + readFileSync(join(out, 'part-00001'), 'utf8')).toBe('');
    const stdout = await runGmr(['run', 'grep', '-p', 'pattern=x', '--input', join(empty, 'a.txt'), ...base]);
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(stdout.stdout).toBe('');

    const nothing = join(dir, 'nothing', 'deeper');
    mkdirSync(nothing, { recursive: true });
    const none = await runGmr(['run', 'wordcount', '--input', join(dir, 'nothing'), ...base]);
    expect(none.code).toBe(66);
    expect(none.stderr).toBe(`gmr: Input has no files: ${join(dir, 'nothing')} (empty folders)\n`);
  });
});
