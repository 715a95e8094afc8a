/**
 * `gmr server`: serverCommand in-process (usage errors, admin shutdown), and bin/gmr.js spawned
 * as a user runs it (a job through it, then SIGTERM).
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { serverCommand } from '../../../src/cli/commands/server.ts';
import { spawnGmr } from '../../helpers/gmr-cli.ts';
import { PacketSocket, adminRaw } from '../../helpers/packet-socket.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import type { ChildProcess } from 'node:child_process';

function captureIO(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

let child: ChildProcess | undefined;
let sockets: PacketSocket[] = [];
afterEach(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  sockets = [];
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

describe('serverCommand', () => {
  it.each([
    [['--port', 'abc'], /^gmr: --port takes a whole number from 0 to 65535, received "abc"\n$/],
    [['--job-retries', '-1'], /^gmr: Option '--job-retries' argument is ambiguous\. .*; see gmr server --help\n$/],
    [['--bogus'], /^gmr: Unknown option '--bogus'; see gmr server --help\n$/],
    [['extra'], /^gmr: Unexpected argument 'extra'.*; see gmr server --help\n$/],
  ])('returns 64 (EX_USAGE) with one line for bad usage %j', async (argv, message) => {
    const { io, err } = captureIO();
    expect(await serverCommand(argv, io)).toBe(64);
    expect(err()).toMatch(message);
    expect(err().trimEnd().split('\n')).toHaveLength(1);
  });

  it('--help prints the options and returns 0', async () => {
    const { io, out } = captureIO();
    expect(await serverCommand(['--help'], io)).toBe(0);
    expect(out()).toMatch(/^Usage: gmr server \[options\]/);
    expect(out()).toContain('--job-retries N');
  });

  it('listens, announces its address on stderr, and returns 0 after the admin shutdown command', async () => {
    const { io, err } = captureIO();
    const done = serverCommand(['--port', '0', '--verbose', '--job-retries', '3', '--allow-shutdown'], io);
    await waitFor(() => /listening on 127\.0\.0\.1:\d+\n/.test(err()), 'the listening line');
    const port = Number(/gmr server listening on 127\.0\.0\.1:(\d+)/.exec(err())?.[1]);
    const c = await PacketSocket.connect(port);
    sockets.push(c);
    c.send({ type: 'ECHO_REQ', data: Buffer.from('hi') });
    await c.expect('ECHO_RES');
    expect(await adminRaw(port, 'shutdown')).toBe('OK\n');
    expect(await done).toBe(0);
    await c.closed;
    expect(err()).toMatch(/gmr server: connection #1 from 127\.0\.0\.1:\d+\n/);
    // The listening line once, not also as a --verbose log line (issue 16).
    expect(err().match(/listening on/g)).toHaveLength(1);
  });
});

describe('gmr server (bin/gmr.js)', () => {
  it('runs a job for raw peers and exits 0 on SIGTERM', async () => {
    child = spawnGmr(['server', '--port', '0']);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(stderr), 'gmr server to listen');
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
    const [c, w] = [await PacketSocket.connect(port), await PacketSocket.connect(port)];
    sockets.push(c, w);
    w.send({ type: 'CAN_DO', fn: 'cli-upper' });
    await w.drain();
    c.send({ type: 'SUBMIT_JOB', fn: 'cli-upper', unique: '', data: Buffer.from('abc') });
    const { handle } = await c.expect('JOB_CREATED');
    w.send({ type: 'GRAB_JOB' });
    const assign = await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from(assign.data.toString().toUpperCase()) });
    expect((await c.expect('WORK_COMPLETE')).data.toString()).toBe('ABC');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe(`gmr server listening on 127.0.0.1:${port}\n`);
  });
});
