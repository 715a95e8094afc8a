/**
 * Several job servers: keys go to the server their CRC32 picks, clients sharing a list coalesce,
 * a refused or killed server's keys fail over, and jobs without a key fail with
 * OutcomeUnknownError instead of running twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type JobEvent, type JobHandle } from 'gmr';
import { ConnectionError, OutcomeUnknownError, TimeoutError } from '../../src/errors.ts';
import { ServerRing } from '../../src/client/server-ring.ts';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { freePort, startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { RawWorker, type JobHandler } from '../helpers/raw-worker.ts';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

async function gearmand(port?: number): Promise<GearmandHandle> {
  const server = await startGearmand([], port);
  cleanup.defer(() => server.stop());
  return server;
}
function worker(server: GearmandHandle, functions: string[], handler: JobHandler): RawWorker {
  return cleanup.add(new RawWorker({ host: server.host, port: server.port, functions, handler, concurrency: 50 }));
}
/** Unique keys that the ring sends to server `index` of `count`. */
function keysFor(index: number, count: number, how: number, prefix: string): string[] {
  const ring = new ServerRing(count);
  const keys: string[] = [];
  for (let i = 0; keys.length < how; i++) if (ring.indexFor(`${prefix}${i}`) === index) keys.push(`${prefix}${i}`);
  return keys;
}
const created = (job: JobHandle): Promise<unknown> => new Promise((resolve) => job.once('created', resolve));
const reply: JobHandler = (job, io) => io.complete(`r:${job.data.toString()}`);

describe('server choice', () => {
  it('sends each key to the server its hash picks, and keys without unique round-robin', async () => {
    const a = await gearmand();
    const b = await gearmand();
    const fn = uniqueName('choice');
    worker(a, [fn], reply);
    worker(b, [fn], reply);
    const c = cleanup.add(new Client({ servers: [a.address, b.address] }));
    const toA = keysFor(0, 2, 3, 'ka');
    const toB = keysFor(1, 2, 3, 'kb');
    const keyed = [...toA, ...toB].map((unique) => c.submit(fn, unique, { unique }));
    const plain = [1, 2, 3, 4].map((i) => c.submit(fn, `plain${i}`));
    await Promise.all([...keyed, ...plain]);
    expect(keyed.map((job) => job.server)).toEqual([a.address, a.address, a.address, b.address, b.address, b.address]);
    const plainServers = plain.map((job) => job.server);
    expect(plainServers.filter((s) => s === a.address)).toHaveLength(2);
    expect(plainServers[0]).not.toBe(plainServers[1]);
  });

  it('two clients with the same server list coalesce the same key on the same server', async () => {
    const a = await gearmand();
    const b = await gearmand();
    const fn = uniqueName('shared');
    const servers = [a.address, b.address];
    const c1 = cleanup.add(new Client({ servers }));
    const c2 = cleanup.add(new Client({ servers }));
    for (const unique of [...keysFor(0, 2, 2, 's'), ...keysFor(1, 2, 2, 's')]) {
      const j1 = c1.submit(fn, 'from c1', { unique });
      await created(j1);
      const j2 = c2.submit(fn, 'from c2', { unique });
      await created(j2);
      expect(j2.server).toBe(j1.server);
      expect(j2.handle).toBe(j1.handle);
    }
    const workers = [worker(a, [fn], reply), worker(b, [fn], reply)];
    await Promise.all(workers.map((w) => w.waitForJobs(2)));
    expect(workers.map((w) => w.jobs.length)).toEqual([2, 2]); // 4 keys, 4 jobs, not 8
  });

  it('fails over to the next server in ring order when the chosen one refuses connections', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const b = await gearmand();
    const fn = uniqueName('refused');
    worker(b, [fn], reply);
    const c = cleanup.add(new Client({ servers: [dead, b.address] }));
    const jobs = keysFor(0, 2, 3, 'r').map((unique) => c.submit(fn, unique, { unique }));
    expect((await Promise.all(jobs)).map(String)).toEqual(jobs.map((j) => `r:${j.unique}`));
    for (const job of jobs) expect(job.server).toBe(b.address);
  });
});

describe('a server dies with jobs in flight', () => {
  it('resubmits keyed jobs elsewhere: every job completes exactly once with its own result', async () => {
    const a = await gearmand();
    const b = await gearmand();
    const fn = uniqueName('killed');
    const held = worker(a, [fn], async (_job, io) => io.closed); // never finishes on A
    worker(b, [fn], reply);
    const c = cleanup.add(new Client({ servers: [a.address, b.address] }));
    const keys = [...keysFor(0, 2, 5, 'x'), ...keysFor(1, 2, 5, 'x')];
    const jobs = keys.map((unique) => c.submit(fn, `payload-${unique}`, { unique }));
    const events = jobs.map(async (job) => {
      const seen: JobEvent[] = [];
      for await (const event of job) seen.push(event);
      return seen;
    });
    await Promise.all(jobs.map(created));
    await held.waitForJobs(5);
    expect(jobs.filter((j) => j.server === a.address)).toHaveLength(5);
    await a.kill();
    const results = await Promise.all(jobs);
    expect(results.map(String)).toEqual(keys.map((k) => `r:payload-${k}`));
    const all = await Promise.all(events);
    all.forEach((seen, i) => {
      expect(seen.filter((e) => e.type === 'complete')).toHaveLength(1);
      const servers = seen.filter((e) => e.type === 'created').map((e) => (e as { server: string }).server);
      // Jobs from A were created again on B; jobs on B were created once.
      expect(servers).toEqual(i < 5 ? [a.address, b.address] : [b.address]);
      expect(jobs[i]?.server).toBe(b.address);
    });
  });

  it('rejects a job without a unique with OutcomeUnknownError saying why', async () => {
    const a = await gearmand();
    const fn = uniqueName('unknown');
    const held = worker(a, [fn], async (_job, io) => io.closed);
    const c = cleanup.add(new Client({ servers: [a.address] }));
    const job = c.submit(fn, 'maybe runs');
    await created(job);
    await held.waitForJobs(1);
    const handle = job.handle as string;
    await a.kill();
    const error = await job.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Outcome unknown for job "${fn}": it was in flight on ${a.address} \\(as ${handle}\\) when the connection was lost \\(Lost connection to job server ${a.address}.*\\); it has no unique key, so it was not resubmitted and may or may not have run$`),
    );
  });
});

describe('no server reachable', () => {
  it('fails a submit without timeout with ConnectionError listing the servers tried', async () => {
    const servers = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const c = cleanup.add(new Client({ servers }));
    const error = await c.submit(uniqueName('nowhere'), 'x', { unique: 'k' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const message = (error as Error).message;
    expect(message).toMatch(/^No job server reachable for job "nowhere_[0-9a-f]+": tried /);
    for (const server of servers) expect(message).toContain(`${server} (Cannot connect to job server ${server}`);
  });

  it('with a timeout, waits for a server to come up, or times out saying which servers were down', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const fn = uniqueName('later');
    const c = cleanup.add(new Client({ servers: [address] }));
    const gaveUp = c.submit(fn, 'x', { timeoutMs: 50 });
    await expect(gaveUp).rejects.toThrow(
      new TimeoutError(`Job "${fn}" did not finish within 50 ms: it was waiting for a reachable job server (not connected: ${address})`),
    );
    const waits = c.submit(fn, 'eventually', { timeoutMs: 30_000 });
    const server = await gearmand(port);
    worker(server, [fn], reply);
    expect((await waits).toString()).toBe('r:eventually');
  });
});
