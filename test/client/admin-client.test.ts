/** AdminClient against a real gearmand: every command, pipelining, errors and close(). */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client } from 'gmr';
import { ClosedError, ConnectionError, ServerError } from '../../src/errors.ts';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { freePort, useGearmand } from '../helpers/gearmand.ts';
import { RawWorker } from '../helpers/raw-worker.ts';

const gearmand = useGearmand();
const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const admin = (): AdminClient => cleanup.add(new AdminClient({ host: gearmand.host, port: gearmand.port }));

describe('AdminClient', () => {
  it('reports version, pid and verbose level', async () => {
    const a = admin();
    const [version, pid, verbose] = await Promise.all([a.version(), a.getpid(), a.verbose()]);
    expect(version).toMatch(/^1\.1\.20/);
    expect(pid).toBe(gearmand.process.pid);
    expect(verbose).toMatch(/^[A-Z]+$/);
  });

  it('lists status, workers, priority status, jobs and unique jobs, pipelined on one connection', async () => {
    const fn = uniqueName('adm');
    const a = cleanup.add(new AdminClient({ server: gearmand.address }));
    const c = cleanup.add(new Client({ servers: [gearmand.address], clientId: 'admin-test-client' }));
    const h1 = await c.submitBackground(fn, 'one', { unique: 'adm-u1', priority: 'high' });
    await c.submitBackground(fn, 'two', { priority: 'low' });
    const w = cleanup.add(
      new RawWorker({ host: gearmand.host, port: gearmand.port, functions: [fn], handler: async (_j, io) => io.closed }),
    );
    await w.waitForJobs(1);
    const [status, workers, prio, jobs, uniques] = await Promise.all([
      a.status(),
      a.workers(),
      a.priorityStatus(),
      a.showJobs(),
      a.showUniqueJobs(),
    ]);
    expect(status.find((s) => s.function === fn)).toEqual({ function: fn, total: 2, running: 1, workers: 1 });
    expect(prio.find((s) => s.function === fn)).toEqual({ function: fn, high: 0, normal: 0, low: 1, workers: 1 });
    expect(workers.filter((x) => x.functions.includes(fn))).toHaveLength(1);
    expect(workers.find((x) => x.clientId === 'admin-test-client')).toMatchObject({ ip: '127.0.0.1', functions: [] });
    expect(jobs.find((j) => j.handle === h1)).toEqual({ handle: h1, retries: 0, ignore: false, queued: true });
    expect(uniques).toContain('adm-u1');
  });

  it('maxqueue makes gearmand refuse submits; cancel job fails a waiting client', async () => {
    const fn = uniqueName('limit');
    const a = admin();
    const c = cleanup.add(new Client({ servers: [gearmand.address] }));
    const job = c.submit(fn, 'queued');
    await new Promise((resolve) => job.once('created', resolve));
    await a.maxqueue(fn, 1);
    await expect(c.submitBackground(fn, 'x')).rejects.toThrow('Job server error QUEUE_ERROR: Job queue is full');
    await a.maxqueue(fn, 0, 0, 0);
    await expect(c.submitBackground(fn, 'y')).resolves.toMatch(/^H:/);
    expect(await a.cancelJob(job.handle as string)).toBe(true);
    await expect(job).rejects.toThrow(`Job "${fn}" (${job.handle}) failed: the job server sent WORK_FAIL`);
    expect(await a.cancelJob('H:nowhere:999999')).toBe(false);
    await expect(a.maxqueue(fn, 1, 2)).rejects.toThrow(/all three/);
  });

  it('creates and drops functions: lines end in \\r\\n, so gearmand keeps the whole name (issue 16: "viagmr" made "viagm")', async () => {
    const fn = uniqueName('viagmr');
    const a = admin();
    await a.createFunction(fn);
    expect((await a.status()).map((s) => s.function)).toContain(fn);
    expect((await a.status()).map((s) => s.function)).not.toContain(fn.slice(0, -1));
    await a.dropFunction(fn);
    expect((await a.status()).map((s) => s.function)).not.toContain(fn);
    const error = await a.dropFunction(fn).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).message).toBe('Job server error function: not found');
  });

  it('refuses arguments that would split into several words', async () => {
    const a = admin();
    await expect(a.dropFunction('two words')).rejects.toThrow(TypeError);
    await expect(a.cancelJob('H:x:1\nshutdown')).rejects.toThrow(/one word/);
  });

  it('fails commands with ConnectionError when nothing listens, and with ClosedError after close()', async () => {
    const port = await freePort();
    const a = cleanup.add(new AdminClient({ port }));
    await expect(a.status()).rejects.toThrow(new ConnectionError(`Admin connection to 127.0.0.1:${port} closed: connect ECONNREFUSED 127.0.0.1:${port}`));
    const b = new AdminClient({ server: gearmand.address });
    const pending = b.status().then(() => undefined, (e: unknown) => e);
    const closing = b.close();
    expect(b.close()).toBe(closing);
    await closing;
    expect(await pending).toBeInstanceOf(ClosedError);
    await expect(b.version()).rejects.toBeInstanceOf(ClosedError);
  });
});
