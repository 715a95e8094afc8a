/**
 * Worker lifecycle against real gearmand processes: start with servers down, reconnect and
 * re-registration after a server restart, close() draining, unregister, fairness across servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError, ConnectionError } from '../../src/errors.ts';
import { Worker } from '../../src/worker/worker.ts';
import { freePort, startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { RawClient, adminCommand, functionStatus } from '../helpers/raw-client.ts';
import { deferred, waitFor } from '../helpers/wait-for.ts';

const servers: GearmandHandle[] = [];
const workers: Worker[] = [];
const clients: RawClient[] = [];
let counter = 0;
const fnName = (what: string): string => `life-${what}-${process.pid}-${++counter}`;

async function gearmand(port?: number): Promise<GearmandHandle> {
  const g = await startGearmand([], port);
  servers.push(g);
  return g;
}
function newWorker(options: ConstructorParameters<typeof Worker>[0]): Worker {
  const w = new Worker({ initialBackoffMs: 20, maxBackoffMs: 200, ...options });
  w.on('error', () => {});
  workers.push(w);
  return w;
}
async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}
const text = (packets: { type: string }[]): string[] =>
  packets.map((p) => `${p.type} ${'data' in p && Buffer.isBuffer(p.data) ? p.data.toString() : ''}`.trim());

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close({ timeoutMs: 0 })));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((g) => g.stop()));
});

describe('Worker start', () => {
  it('rejects with a ConnectionError naming every server when none answers, and can be started again', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const w = newWorker({ servers: [`127.0.0.1:${a}`, { host: '127.0.0.1', port: b }], startTimeoutMs: 300 });
    const error = await w.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`127.0.0.1:${a}`);
    expect((error as Error).message).toContain(`127.0.0.1:${b}`);
    // The attempt left nothing running; a later start works once a server is up.
    const g = await gearmand(a);
    const fn = fnName('late-start');
    w.register(fn, () => 'up');
    await w.start();
    expect(text(await (await client(g.port)).run(fn, ''))).toEqual(['WORK_COMPLETE up']);
  });

  it('resolves when one server is up, serves it, and connects to the other once it appears', async () => {
    const downPort = await freePort();
    const up = await gearmand();
    const fn = fnName('partial');
    const w = newWorker({ servers: [`127.0.0.1:${downPort}`, up.address] });
    const connected: string[] = [];
    w.on('connect', (address) => connected.push(address));
    w.register(fn, (job) => job.server);
    await w.start();
    expect(text(await (await client(up.port)).run(fn, ''))).toEqual([`WORK_COMPLETE ${up.address}`]);
    const late = await gearmand(downPort);
    await waitFor(() => connected.includes(late.address), 'the worker to reach the late server');
    expect(text(await (await client(late.port)).run(fn, ''))).toEqual([`WORK_COMPLETE ${late.address}`]);
  });

  it('rejects start() after close()', async () => {
    const w = newWorker({ servers: ['127.0.0.1:1'] });
    await w.close();
    await w.close(); // idempotent
    await expect(w.start()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('Worker reconnect', () => {
  it('re-sends SET_CLIENT_ID and every CAN_DO after the server restarts, and drops the job it was running', async () => {
    const g1 = await gearmand();
    const fn = fnName('restart');
    const slow = fnName('restart-slow');
    const id = `gmr-reconnect-${process.pid}`;
    const w = newWorker({ servers: [g1.address], clientId: id, concurrency: 2 });
    const events: string[] = [];
    w.on('connect', () => events.push('connect'));
    w.on('disconnect', () => events.push('disconnect'));
    const failures: Error[] = [];
    w.on('job:fail', (_job, error) => failures.push(error));
    let abortReason: unknown;
    const slowStarted = deferred();
    w.register(fn, (job) => `ok ${job.payload.toString()}`);
    w.register(slow, async (job) => {
      slowStarted.resolve();
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      abortReason = job.signal.reason;
      job.sendStatus(1, 2); // ignored: the job is no longer ours
      return 'never delivered';
    });
    await w.start();
    const c1 = await client(g1.port);
    expect(text(await c1.run(fn, '1'))).toEqual(['WORK_COMPLETE ok 1']);
    void c1.submit(slow, '').catch(() => {});
    await slowStarted.promise;

    await g1.stop();
    await waitFor(() => events.includes('disconnect') && w.running === 0, 'the worker to notice and drop the job');
    expect(abortReason).toBeInstanceOf(ConnectionError);
    expect(failures.map((e) => e.constructor.name)).toEqual(['ConnectionError']);

    const g2 = await gearmand(g1.port);
    await waitFor(() => events.filter((e) => e === 'connect').length === 2, 'the reconnect');
    expect(text(await (await client(g2.port)).run(fn, '2'))).toEqual(['WORK_COMPLETE ok 2']);
    const row = (await adminCommand(g2.port, 'workers')).find((line) => line.includes(` ${id} :`));
    expect(row?.split(' : ')[1]?.split(' ').sort()).toEqual([fn, slow].sort());
  });
});

describe('Worker close', () => {
  it('lets the running job finish before resolving, and grabs nothing after close starts', async () => {
    const g = await gearmand();
    const fn = fnName('drain');
    const w = newWorker({ servers: [g.address], concurrency: 2 });
    const gate = deferred();
    const started: string[] = [];
    w.register(fn, async (job) => {
      started.push(job.payload.toString());
      await gate.promise;
      return `done ${job.payload.toString()}`;
    });
    await w.start();
    const c = await client(g.port);
    const first = await c.submit(fn, 'first');
    await waitFor(() => started.length === 1, 'the first job to start');
    let closed = false;
    const closing = w.close().then(() => {
      closed = true;
    });
    const second = await c.submit(fn, 'second');
    // gearmand has had the chance to wake the worker; the second job stays queued.
    expect(await functionStatus(g.port, fn)).toMatchObject({ total: 2, running: 1 });
    expect(closed).toBe(false);
    expect(w.running).toBe(1);
    gate.resolve();
    await closing;
    expect(text(c.packets(first))).toEqual(['WORK_COMPLETE done first']);
    expect(started).toEqual(['first']);
    expect(c.packets(second)).toEqual([]);
    expect(await functionStatus(g.port, fn)).toEqual({ total: 1, running: 0, workers: 0 });
  });

  it('with timeoutMs aborts a job that outlives it; the server requeues it and another worker finishes it', async () => {
    const g = await gearmand();
    const fn = fnName('abort');
    const w = newWorker({ servers: [g.address] });
    const started = deferred();
    let reason: unknown;
    w.register(fn, async (job) => {
      started.resolve();
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      reason = job.signal.reason;
      return 'too late';
    });
    await w.start();
    const c = await client(g.port);
    const handle = await c.submit(fn, 'x');
    await started.promise;
    await w.close({ timeoutMs: 50 });
    expect(reason).toMatchObject({ code: 'GMR_ERR_ABORTED' });
    const rescuer = newWorker({ servers: [g.address] });
    rescuer.register(fn, () => 'rescued');
    await rescuer.start();
    expect(text(await c.result(handle))).toEqual(['WORK_COMPLETE rescued']);
  });
});

describe('Worker registrations and fairness', () => {
  it('unregister sends CANT_DO; register again serves the queued job', async () => {
    const g = await gearmand();
    const fn = fnName('unreg');
    const w = newWorker({ servers: [g.address] });
    w.register(fn, () => 'one');
    await w.start();
    const c = await client(g.port);
    expect(text(await c.run(fn, ''))).toEqual(['WORK_COMPLETE one']);
    w.unregister(fn);
    await waitFor(async () => (await functionStatus(g.port, fn))?.workers === 0, 'CANT_DO to reach gearmand');
    const handle = await c.submit(fn, '');
    expect(await functionStatus(g.port, fn)).toEqual({ total: 1, running: 0, workers: 0 });
    w.register(fn, () => 'two');
    expect(text(await c.result(handle))).toEqual(['WORK_COMPLETE two']);
    expect(await functionStatus(g.port, fn)).toEqual({ total: 0, running: 0, workers: 1 });
  });

  it('grabs from several servers in turn, holding at most `concurrency` jobs in total', async () => {
    const [a, b] = [await gearmand(), await gearmand()];
    const fn = fnName('fair');
    const [ca, cb] = [await client(a.port), await client(b.port)];
    const handles = [
      ...(await Promise.all(['a1', 'a2', 'a3'].map((p) => ca.submit(fn, p)))),
      ...(await Promise.all(['b1', 'b2', 'b3'].map((p) => cb.submit(fn, p)))),
    ];
    const w = newWorker({ servers: [a.address, b.address], concurrency: 1 });
    const bothUp = deferred();
    let connects = 0;
    w.on('connect', () => {
      if (++connects === 2) bothUp.resolve();
    });
    const order: string[] = [];
    let current = 0;
    let peak = 0;
    w.register(fn, async (job) => {
      current++;
      peak = Math.max(peak, current);
      await bothUp.promise;
      order.push(job.payload.toString().charAt(0));
      current--;
      return job.payload;
    });
    await w.start();
    await Promise.all([...handles.slice(0, 3).map((h) => ca.result(h)), ...handles.slice(3).map((h) => cb.result(h))]);
    expect(peak).toBe(1);
    expect(order.join('')).toMatch(/^(ab){3}$|^(ba){3}$/);
  });
});
