/**
 * JobServer's own API and the behaviour where it goes beyond gearmand 1.1.20: lifecycle, close()
 * failing waiting clients, admin shutdown, per-job CAN_DO_TIMEOUT, cancel of a running job,
 * background joins, handle prefix, big payloads.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectionError, UsageError } from '../../src/errors.ts';
import { JobServer } from '../../src/server/job-server.ts';
import { useJobServers } from '../helpers/job-servers.ts';
import { PacketSocket, adminRaw, show } from '../helpers/packet-socket.ts';
import { waitFor } from '../helpers/wait-for.ts';

const { listen, open } = useJobServers();
let counter = 0;
const fnName = (what: string): string => `srv-${what}-${++counter}`;

async function worker(server: JobServer, fn: string, timeout?: string): Promise<PacketSocket> {
  const w = await open(server);
  w.send(timeout === undefined ? { type: 'CAN_DO', fn } : { type: 'CAN_DO_TIMEOUT', fn, timeout });
  await w.drain();
  return w;
}

async function submit(c: PacketSocket, fn: string, data: string, unique = '', type: 'SUBMIT_JOB' | 'SUBMIT_JOB_BG' = 'SUBMIT_JOB'): Promise<string> {
  c.send({ type, fn, unique, data: Buffer.from(data) });
  return (await c.expect('JOB_CREATED')).handle;
}

describe('JobServer lifecycle', () => {
  it('listens on loopback, reports host, port and address, and closes idempotently', async () => {
    const server = await listen();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const closes = [server.close(), server.close()];
    expect(closes[0]).toBe(closes[1]);
    await Promise.all(closes);
    await server.close();
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1');
      s.once('connect', () => resolve('connected'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('rejects bad options with a UsageError and a busy port with a ConnectionError', async () => {
    await expect(JobServer.listen({ port: -1 })).rejects.toBeInstanceOf(UsageError);
    await expect(JobServer.listen({ port: 0, jobRetries: 1.5 })).rejects.toThrow(/jobRetries must be a whole number/);
    const server = await listen();
    await expect(JobServer.listen({ port: server.port })).rejects.toBeInstanceOf(ConnectionError);
  });

  it('close() sends WORK_FAIL for queued and running foreground jobs, then closes every socket', async () => {
    const server = await listen();
    const fn = fnName('close');
    const c = await open(server);
    const running = await submit(c, fn, 'r');
    const queued = await submit(c, fn, 'q');
    await submit(c, fn, 'bg', '', 'SUBMIT_JOB_BG');
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB' });
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(running);
    await server.close();
    await Promise.all([c.closed, w.closed]);
    expect(c.received.slice(3).map(show)).toEqual([
      { type: 'WORK_FAIL', handle: running },
      { type: 'WORK_FAIL', handle: queued },
    ]);
  });

  it('uses jobHandlePrefix and numbers handles from 1', async () => {
    const server = await listen({ jobHandlePrefix: 'H:test' });
    const c = await open(server);
    expect(await submit(c, fnName('prefix'), 'a', '', 'SUBMIT_JOB_BG')).toBe('H:test:1');
    expect(await submit(c, fnName('prefix'), 'b', '', 'SUBMIT_JOB_BG')).toBe('H:test:2');
  });

  it('logs connections and protocol errors through the logger', async () => {
    const lines: string[] = [];
    const server = await listen({ logger: (line) => lines.push(line) });
    const c = await open(server);
    c.sendRaw(Buffer.from([0, 1, 2, 3, 0, 0, 0, 1, 0, 0, 0, 0]));
    await c.closed;
    await waitFor(() => lines.some((l) => /closed$/.test(l)), 'the close log line');
    expect(lines.some((l) => /^connection #\d+ from 127\.0\.0\.1:\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /Bad packet magic/.test(l))).toBe(true);
    expect(await adminRaw(server.port, 'verbose')).toBe('OK INFO\n');
  });
});

describe('JobServer admin shutdown', () => {
  it('shutdown: OK, then the server closes and emits close', async () => {
    const server = await listen({ allowShutdown: true });
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    const other = await open(server);
    expect(await adminRaw(server.port, 'shutdown')).toBe('OK\n');
    await closed;
    await other.closed;
  });

  it('shutdown graceful: stops listening, queued and running jobs finish and are delivered, then close', async () => {
    const server = await listen({ allowShutdown: true });
    const fn = fnName('graceful');
    const c = await open(server);
    const running = await submit(c, fn, 'r');
    const queued = await submit(c, fn, 'q');
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    expect(await adminRaw(server.port, 'shutdown graceful')).toBe('OK\n');
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1');
      s.once('connect', () => resolve('connected'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    w.send({ type: 'WORK_COMPLETE', handle: running, data: Buffer.from('done') });
    w.send({ type: 'GRAB_JOB' });
    const second = await w.expect('JOB_ASSIGN');
    expect(second.handle).toBe(queued);
    w.send({ type: 'WORK_COMPLETE', handle: queued, data: Buffer.from('done too') });
    await closed;
    await c.closed;
    expect(c.received.slice(2).map(show)).toEqual([
      { type: 'WORK_COMPLETE', handle: running, data: 'done' },
      { type: 'WORK_COMPLETE', handle: queued, data: 'done too' },
    ]);
  });
});

describe('JobServer beyond gearmand 1.1.20', () => {
  it('CAN_DO_TIMEOUT is per job: both jobs of one worker connection are requeued', async () => {
    const server = await listen();
    const fn = fnName('timeouts');
    const c = await open(server);
    const h1 = await submit(c, fn, 'a');
    const h2 = await submit(c, fn, 'b');
    const w = await worker(server, fn, '1000');
    w.send({ type: 'GRAB_JOB' }, { type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    await w.expect('JOB_ASSIGN');
    await waitFor(async () => {
      const rows = (await adminRaw(server.port, 'show jobs')).split('\n');
      return rows.includes(`${h1}\t1\t0\t0`) && rows.includes(`${h2}\t1\t0\t0`);
    }, 'both jobs requeued');
  });

  it('cancel of a running job: WORK_FAIL now, the worker result discarded quietly, the unique free again', async () => {
    const server = await listen();
    const fn = fnName('cancel');
    const c = await open(server);
    const handle = await submit(c, fn, 'x', 'u');
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    expect(await adminRaw(server.port, `cancel job ${handle}`)).toBe('OK\r\n');
    expect(show(await c.next())).toEqual({ type: 'WORK_FAIL', handle });
    expect(await adminRaw(server.port, 'show jobs')).toBe(`${handle}\t0\t1\t0\n.\n`);
    const again = await submit(c, fn, 'y', 'u');
    expect(again).not.toBe(handle);
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('late') });
    expect(await w.drain()).toEqual([]);
    expect(await c.drain()).toEqual([]);
  });

  it('a background submit that joined a foreground job keeps it alive when the foreground client leaves', async () => {
    const server = await listen();
    const fn = fnName('bgjoin');
    const fg = await open(server);
    const handle = await submit(fg, fn, 'x', 'shared');
    const bg = await open(server);
    expect(await submit(bg, fn, 'ignored', 'shared', 'SUBMIT_JOB_BG')).toBe(handle);
    await fg.close();
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB' });
    expect(show(await w.expect('JOB_ASSIGN'))).toEqual({ type: 'JOB_ASSIGN', handle, fn, data: 'x' });
  });

  it('keeps a 63-byte unique whole, and carries a 4 MiB payload intact both ways', async () => {
    const server = await listen();
    const fn = fnName('big');
    const c = await open(server);
    const unique = 'u'.repeat(63);
    const payload = Buffer.alloc(4 * 1024 * 1024, 0);
    for (let i = 0; i < payload.length; i += 4093) payload[i] = i % 251;
    c.send({ type: 'SUBMIT_JOB', fn, unique, data: payload });
    const handle = (await c.expect('JOB_CREATED')).handle;
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB_UNIQ' });
    const assign = await w.expect('JOB_ASSIGN_UNIQ');
    expect(assign.unique).toBe(unique);
    expect(assign.data.equals(payload)).toBe(true);
    w.send({ type: 'WORK_COMPLETE', handle, data: assign.data });
    expect((await c.expect('WORK_COMPLETE')).data.equals(payload)).toBe(true);
  });

  it('an EPOCH job far in the future stays scheduled (counted in status) until close', async () => {
    const server = await listen();
    const fn = fnName('far');
    const c = await open(server);
    c.send({ type: 'SUBMIT_JOB_EPOCH', fn, unique: '', epoch: String(Math.floor(Date.now() / 1000) + 90 * 86_400), data: Buffer.from('x') });
    await c.expect('JOB_CREATED');
    expect((await adminRaw(server.port, 'status')).split('\n')).toContain(`${fn}\t1\t0\t0`);
    expect((await adminRaw(server.port, 'prioritystatus')).split('\n')).toContain(`${fn}\t0\t1\t0\t0`);
    const w = await worker(server, fn);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('NO_JOB');
  });
});
