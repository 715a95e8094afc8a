/**
 * Client submits against a real gearmand, with a raw-socket worker (test/helpers/raw-worker.ts):
 * every submit variant, WORK_* events, failures, payload sizes, coalescing, status and echo.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, JobHandle, type JobEvent } from 'gmr';
import { JobExceptionError, JobFailedError, ServerError } from '../../src/errors.ts';
import { Cleanup, uniqueName, until } from '../helpers/cleanup.ts';
import { startGearmand, useGearmand } from '../helpers/gearmand.ts';
import { echoHandler, RawWorker, scriptHandler, type JobHandler } from '../helpers/raw-worker.ts';

const gearmand = useGearmand();
const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

function client(): Client {
  return cleanup.add(new Client({ servers: [gearmand.address] }));
}
function admin(): AdminClient {
  return cleanup.add(new AdminClient({ server: gearmand.address }));
}
function worker(functions: string[], handler: JobHandler, concurrency = 1): RawWorker {
  return cleanup.add(new RawWorker({ host: gearmand.host, port: gearmand.port, functions, handler, concurrency }));
}
async function collect(job: JobHandle): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of job) events.push(event);
  return events;
}

describe('foreground submits', () => {
  it('returns the WORK_COMPLETE data at each priority, with and without unique', async () => {
    const fn = uniqueName('fg');
    const c = client();
    worker([fn], (job, io) => io.complete(`done:${job.data.toString()}:${job.unique}`));
    const results = await Promise.all([
      c.submit(fn, 'a'),
      c.submit(fn, 'b', { priority: 'high' }),
      c.submit(fn, 'c', { priority: 'low' }),
      c.submit(fn, 'd', { unique: 'u-d' }),
      c.submit(fn, 'e', { unique: 'u-e', priority: 'high' }),
      c.submit(fn, 'f', { unique: 'u-f', priority: 'low' }),
    ]);
    expect(results.map(String)).toEqual(['done:a:', 'done:b:', 'done:c:', 'done:d:u-d', 'done:e:u-e', 'done:f:u-f']);
  });

  it('sends the priority on the wire: queued jobs are grabbed high, normal, low', async () => {
    const fn = uniqueName('prio');
    const c = client();
    const jobs = [
      c.submit(fn, 'low', { priority: 'low' }),
      c.submit(fn, 'normal'),
      c.submit(fn, 'high', { priority: 'high' }),
    ];
    await Promise.all(jobs.map((job) => new Promise((resolve) => job.once('created', resolve))));
    const w = worker([fn], echoHandler);
    await Promise.all(jobs);
    expect(w.jobs.map((j) => j.data.toString())).toEqual(['high', 'normal', 'low']);
  });

  it('reports status, data and warning events in order; the result is only the WORK_COMPLETE data', async () => {
    const fn = uniqueName('events');
    const c = client();
    worker([fn], scriptHandler);
    const script = [{ status: [1, 3] }, { data: 'chunk1' }, { warning: 'careful' }, { data: 'chunk2' }, { status: [3, 3] }, { complete: 'result' }];
    const job = c.submit(fn, JSON.stringify(script));
    const emitted: string[] = [];
    job.on('created', (h) => emitted.push(`created:${h.startsWith('H:')}`));
    job.on('status', (n, d) => emitted.push(`status:${n}/${d}`));
    job.on('data', (b) => emitted.push(`data:${b.toString()}`));
    job.on('warning', (b) => emitted.push(`warning:${b.toString()}`));
    const events = await collect(job);
    expect((await job).toString()).toBe('result');
    expect(emitted).toEqual(['created:true', 'status:1/3', 'data:chunk1', 'warning:careful', 'data:chunk2', 'status:3/3']);
    expect(events.map((e) => e.type)).toEqual(['created', 'status', 'data', 'warning', 'data', 'status', 'complete']);
    expect(events[0]).toMatchObject({ type: 'created', handle: job.handle, server: gearmand.address });
    expect(events.at(-1)).toEqual({ type: 'complete', data: Buffer.from('result') });
  });

  it('rejects with JobFailedError on WORK_FAIL and JobExceptionError with the text on WORK_EXCEPTION', async () => {
    const fn = uniqueName('fails');
    const c = client();
    worker([fn], scriptHandler);
    const failed = c.submit(fn, JSON.stringify([{ fail: true }]));
    const excepted = c.submit(fn, JSON.stringify([{ data: 'partial' }, { exception: 'boom: disk full' }]));
    const failure = await failed.then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as JobFailedError).handle).toBe(failed.handle);
    const exception = await excepted.then(() => undefined, (e: unknown) => e);
    expect(exception).toBeInstanceOf(JobExceptionError);
    expect((exception as JobExceptionError).message).toBe('boom: disk full');
    // The iterator of a failed job yields what came before, then throws the same error.
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of excepted) seen.push(event.type);
      })(),
    ).rejects.toBe(exception);
  });

  it('round-trips payloads of 0, 65535, 65536, 65537 bytes, 16 MiB and binary full of NULs', async () => {
    const fn = uniqueName('echo');
    const c = client();
    worker([fn], echoHandler, 4);
    const binary = Buffer.alloc(70_000);
    for (let i = 0; i < binary.length; i++) binary[i] = i % 3 === 0 ? 0 : (i * 7) & 0xff;
    const big = Buffer.alloc(16 * 1024 * 1024, 0);
    big.fill('gmr\0', 0, 1024);
    big.writeUInt32BE(0xdeadbeef, big.length - 4);
    const payloads = [Buffer.alloc(0), Buffer.alloc(65_535, 1), Buffer.alloc(65_536, 2), Buffer.alloc(65_537, 3), big, binary, Buffer.from([0, 0, 0])];
    const results = await Promise.all(payloads.map((p) => c.submit(fn, p)));
    results.forEach((result, i) => {
      expect(result.length).toBe(payloads[i]?.length);
      expect(result.equals(payloads[i] as Buffer)).toBe(true);
    });
  });

  it('gives every coalesced submit of one unique the same handle and every WORK_* packet', async () => {
    const fn = uniqueName('coalesce');
    const c = client();
    const w = worker([fn], async (job, io) => {
      io.data('progress');
      io.status(1, 2);
      await new Promise((resolve) => setTimeout(resolve, 0));
      io.complete(`once:${job.data.toString()}`);
    });
    const first = c.submit(fn, 'first', { unique: 'same-key' });
    const second = c.submit(fn, 'second', { unique: 'same-key' });
    const [events1, events2] = await Promise.all([collect(first), collect(second)]);
    expect(first.handle).toBeDefined();
    expect(second.handle).toBe(first.handle);
    expect((await first).toString()).toBe('once:first');
    expect((await second).toString()).toBe('once:first'); // the first submission's payload wins
    expect(w.jobs).toHaveLength(1);
    for (const events of [events1, events2]) {
      expect(events.map((e) => e.type)).toEqual(['created', 'data', 'status', 'complete']);
    }
  });
});

describe('background submits', () => {
  it('creates jobs at each priority and generates a UUID unique when none is given', async () => {
    const fn = uniqueName('bg');
    const c = client();
    const a = admin();
    const handles = await Promise.all([
      c.submitBackground(fn, 'h', { priority: 'high' }),
      c.submitBackground(fn, 'n'),
      c.submitBackground(fn, 'l', { priority: 'low' }),
      c.submitBackground(fn, 'u', { unique: 'bg-given', priority: 'low' }),
    ]);
    for (const handle of handles) expect(handle).toMatch(/^H:.+:\d+$/);
    expect(new Set(handles).size).toBe(4);
    const prio = (await a.priorityStatus()).find((s) => s.function === fn);
    expect(prio).toMatchObject({ high: 1, normal: 1, low: 2 });
    const w = worker([fn], echoHandler);
    await w.waitForJobs(4);
    expect(w.jobs.map((j) => j.data.toString())).toEqual(['h', 'n', 'l', 'u']);
    expect(w.jobs[0]?.unique).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(w.jobs[3]?.unique).toBe('bg-given');
  });

  it('SUBMIT_JOB_EPOCH: a past epoch runs, a future one waits in the queue', async () => {
    const fn = uniqueName('epoch');
    const c = client();
    const a = admin();
    const future = await c.submitBackground(fn, 'later', { epoch: new Date(Date.now() + 3_600_000) });
    const past = await c.submitBackground(fn, 'now', { epoch: 1 });
    const w = worker([fn], echoHandler);
    await w.waitForJobs(1);
    expect(w.jobs.map((j) => j.data.toString())).toEqual(['now']);
    expect(w.jobs[0]?.handle).toBe(past);
    const jobs = await a.showJobs();
    expect(jobs.find((j) => j.handle === future)).toMatchObject({ queued: true, ignore: false });
    await expect(c.getStatus(future)).resolves.toMatchObject({ known: true, running: false });
  });

  it('rejects the submit with ServerError on ERROR QUEUE_ERROR, and the next submit still gets its own handle', async () => {
    const fn = uniqueName('full');
    const other = uniqueName('other');
    const c = client();
    const a = admin();
    await c.submitBackground(fn, 'first');
    await a.maxqueue(fn, 1);
    const [refused, next] = await Promise.allSettled([c.submitBackground(fn, 'second'), c.submitBackground(other, 'x')]);
    expect(refused.status).toBe('rejected');
    const error = (refused as PromiseRejectedResult).reason as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.serverCode).toBe('QUEUE_ERROR');
    expect(error.message).toContain('Job queue is full');
    expect(next.status).toBe('fulfilled');
    const handle = (next as PromiseFulfilledResult<string>).value;
    const w = worker([other], echoHandler);
    await w.waitForJobs(1);
    expect(w.jobs[0]?.handle).toBe(handle);
  });
});

describe('status and echo', () => {
  it('GET_STATUS and GET_STATUS_UNIQUE report a running job, then forget it', async () => {
    const fn = uniqueName('status');
    const c = client();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    worker([fn], async (_job, io) => {
      io.status(1, 4);
      await finished;
      io.complete('ok');
    });
    const job = c.submit(fn, 'x', { unique: 'status-key' });
    await new Promise<void>((resolve) => job.once('status', () => resolve()));
    const handle = job.handle as string;
    await expect(c.getStatus(handle)).resolves.toEqual({ handle, known: true, running: true, numerator: 1, denominator: 4 });
    await expect(c.getStatusUnique('status-key')).resolves.toEqual({
      unique: 'status-key', known: true, running: true, numerator: 1, denominator: 4, clientCount: 1,
    });
    finish();
    await job;
    await expect(c.getStatus(handle)).resolves.toMatchObject({ known: false, running: false });
    await expect(c.getStatusUnique('status-key')).resolves.toMatchObject({ known: false, clientCount: 0 });
  });

  it('echo returns the same bytes', async () => {
    const c = client();
    const bytes = Buffer.from([0, 1, 2, 0, 255, 0]);
    expect((await c.echo(bytes)).equals(bytes)).toBe(true);
    expect((await c.echo('')).length).toBe(0);
  });
});

describe('reconnect', () => {
  it('sends OPTION_REQ exceptions again after reconnecting, so exception text still arrives', async () => {
    const own = await startGearmand();
    cleanup.defer(() => own.stop());
    const fn = uniqueName('reopt');
    const c = cleanup.add(new Client({ servers: [own.address] }));
    const disconnected = new Promise((resolve) => c.once('disconnect', resolve));
    const w1 = cleanup.add(new RawWorker({ host: own.host, port: own.port, functions: [fn], handler: scriptHandler }));
    await expect(c.submit(fn, JSON.stringify([{ exception: 'first' }]))).rejects.toThrow('first');
    await own.kill();
    await disconnected;
    await w1.close();
    // Listen before the new server exists: the client's retry can connect while startGearmand is still probing it.
    const reconnected = new Promise((resolve) => c.once('connect', resolve));
    const again = await startGearmand([], own.port);
    cleanup.defer(() => again.stop());
    await reconnected;
    cleanup.add(new RawWorker({ host: again.host, port: again.port, functions: [fn], handler: scriptHandler }));
    const error = await c.submit(fn, JSON.stringify([{ exception: 'second' }])).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobExceptionError);
    expect((error as Error).message).toBe('second');
  });
});

it('exports Client, AdminClient and JobHandle from gmr', () => {
  expect(typeof Client).toBe('function');
  expect(typeof AdminClient).toBe('function');
  expect(typeof JobHandle).toBe('function');
});

// Used by until() callers in other files; keep the import honest here too.
void until;
