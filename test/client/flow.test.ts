/**
 * Client flow control: FIFO matching under pipelining, timeouts, abort signals, the in-flight
 * window (backpressure), close(), and server replies gearmand only sends in odd cases (scripted
 * with a fake server).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client } from 'gmr';
import { AbortError, ClosedError, JobFailedError, TimeoutError } from '../../src/errors.ts';
import { Cleanup, uniqueName, until } from '../helpers/cleanup.ts';
import { FakeServer, rawResponse } from '../helpers/fake-server.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { echoHandler, RawWorker, scriptHandler, type JobHandler } from '../helpers/raw-worker.ts';

const gearmand = useGearmand();
const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

function client(options: ConstructorParameters<typeof Client>[0] = {}): Client {
  return cleanup.add(new Client({ servers: [gearmand.address], ...options }));
}
function worker(functions: string[], handler: JobHandler, concurrency = 1): RawWorker {
  return cleanup.add(new RawWorker({ host: gearmand.host, port: gearmand.port, functions, handler, concurrency }));
}
const HOLD = JSON.stringify([{ hold: true }]);

/** A handler that finishes each job when the test releases its payload. */
function releasable(): { handler: JobHandler; release: (payload: string) => void } {
  const waiting = new Map<string, () => void>();
  const released = new Set<string>();
  return {
    handler: async (job, io) => {
      const key = job.data.toString();
      if (!released.has(key)) await new Promise<void>((resolve) => waiting.set(key, resolve));
      io.complete(`done:${key}`);
    },
    release: (payload) => {
      released.add(payload);
      waiting.get(payload)?.();
    },
  };
}

it('matches 300 pipelined JOB_CREATED replies to their submits in order', async () => {
  const fn = uniqueName('fifo');
  const c = client();
  const jobs = Array.from({ length: 300 }, (_, i) => c.submit(fn, `payload-${i}`));
  await Promise.all(jobs.map((job) => new Promise((resolve) => job.once('created', resolve))));
  const w = worker([fn], (job, io) => io.complete(job.handle), 8);
  const results = await Promise.all(jobs);
  await w.waitForJobs(300);
  const payloadByHandle = new Map(w.jobs.map((j) => [j.handle, j.data.toString()]));
  jobs.forEach((job, i) => {
    expect(results[i]?.toString()).toBe(job.handle); // the worker saw this handle...
    expect(payloadByHandle.get(job.handle as string)).toBe(`payload-${i}`); // ...with this job's payload
  });
});

describe('timeouts and abort', () => {
  it('rejects with TimeoutError naming where the job was, per submit and by client default', async () => {
    const fn = uniqueName('slow');
    worker([fn], scriptHandler);
    const c = client({ timeoutMs: 150 });
    // 1 s, not 100 ms: under load the worker's grab could come after a short budget, and the job would not be running yet.
    const perSubmit = c.submit(fn, HOLD, { timeoutMs: 1000 });
    const error = await perSubmit.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(new RegExp(`^Job "${fn}" did not finish within 1000 ms: it was running as H:`));
    const byDefault = c.submit(uniqueName('noworker'), 'x');
    await expect(byDefault).rejects.toThrow(/within 150 ms/);
  });

  it('rejects with AbortError when the signal fires, before or after the submit was written', async () => {
    const fn = uniqueName('abort');
    const a = cleanup.add(new AdminClient({ server: gearmand.address }));
    const c = client({ maxInFlight: 1 });
    const pre = AbortSignal.abort(new Error('user gave up'));
    const early = c.submit(fn, 'never', { signal: pre });
    const earlyError = await early.then(() => undefined, (e: unknown) => e);
    expect(earlyError).toBeInstanceOf(AbortError);
    expect((earlyError as AbortError).cause).toBe(pre.reason);
    expect(early.handle).toBeUndefined();

    const w = worker([fn], async (job, io) => {
      if (job.data.toString() === 'hold') await io.closed;
      else io.complete('second ran');
    }, 2);
    const controller = new AbortController();
    const held = c.submit(fn, 'hold', { signal: controller.signal });
    const next = c.submit(fn, 'next'); // waits for the window slot that `held` occupies
    await new Promise((resolve) => held.once('created', resolve));
    await w.waitForJobs(1);
    controller.abort();
    await expect(held).rejects.toBeInstanceOf(AbortError);
    expect((await next).toString()).toBe('second ran'); // the aborted job gave its slot back
    expect((await a.status()).find((s) => s.function === fn)?.total).toBe(1); // 'hold' still runs
  });
});

describe('backpressure', () => {
  it('does not write the (maxInFlight+1)th submit until one finishes', async () => {
    const fn = uniqueName('window');
    const a = cleanup.add(new AdminClient({ server: gearmand.address }));
    const { handler, release } = releasable();
    const w = worker([fn], handler, 3);
    const c = client({ maxInFlight: 2 });
    const jobs = ['j0', 'j1', 'j2'].map((p) => c.submit(fn, p));
    await Promise.all(jobs.slice(0, 2).map((job) => new Promise((resolve) => job.once('created', resolve))));
    await w.waitForJobs(2);
    // An echo on the same connection is answered after any JOB_CREATED for earlier writes.
    await c.echo('barrier');
    expect(jobs[2]?.handle).toBeUndefined();
    expect((await a.status()).find((s) => s.function === fn)).toMatchObject({ total: 2, running: 2 });
    release('j1');
    expect((await jobs[1])?.toString()).toBe('done:j1');
    await new Promise((resolve) => jobs[2]?.once('created', resolve));
    release('j0');
    release('j2');
    expect((await Promise.all(jobs)).map(String)).toEqual(['done:j0', 'done:j1', 'done:j2']);
    expect(w.jobs.map((j) => j.data.toString())).toEqual(['j0', 'j1', 'j2']);
  });
});

describe('close', () => {
  it('rejects running, waiting and background submits with ClosedError; is idempotent', async () => {
    const fn = uniqueName('close');
    worker([fn], scriptHandler);
    const c = new Client({ servers: [gearmand.address], maxInFlight: 1, timeoutMs: 30_000 });
    const running = c.submit(fn, HOLD);
    const waiting = c.submit(fn, HOLD);
    const background = c.submitBackground(fn, 'bg');
    const outcomes = Promise.allSettled([running, waiting, background]);
    await new Promise((resolve) => running.once('created', resolve));
    const first = c.close();
    expect(c.close()).toBe(first);
    await first;
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(ClosedError);
      expect(error.message).toBe('Client is closed');
    }
    await expect(c.submit(fn, 'late')).rejects.toBeInstanceOf(ClosedError);
    await expect(c.echo('late')).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('arguments', () => {
  it('validates options and submit arguments at the call', async () => {
    expect(() => new Client({ maxInFlight: 0 })).toThrow('maxInFlight must be a positive integer, received 0');
    expect(() => new Client({ servers: [] })).toThrow(/at least one job server/);
    expect(() => new Client({ servers: ['host:99999'] })).toThrow(/Bad port/);
    const c = client();
    expect(() => c.submit('', 'x')).toThrow(/non-empty function name/);
    expect(() => c.submit('f', 'x', { unique: 'u'.repeat(64) })).toThrow('unique must be at most 63 bytes, received 64');
    expect(() => c.submit('f\0g', 'x')).toThrow(/NUL/);
    await expect(c.submitBackground('f', 'x', { epoch: 1, priority: 'high' })).rejects.toThrow(/normal priority/);
    await expect(c.submitBackground('f', 'x', { epoch: 1.5 })).rejects.toThrow(/whole unix seconds/);
  });
});

describe('odd server replies (scripted server)', () => {
  it('reports a JOB_CREATED that no submit waits for as an error event and keeps working', async () => {
    const fake = cleanup.add(
      await new FakeServer((packet, conn) => {
        if (packet.type === 'OPTION_REQ') conn.send({ type: 'OPTION_RES', option: packet.option });
        if (packet.type === 'ECHO_REQ') {
          conn.send({ type: 'ECHO_RES', data: packet.data });
          if (packet.data.toString() === 'first') conn.send({ type: 'JOB_CREATED', handle: 'H:fake:99' });
        }
      }).listen(),
    );
    const c = client({ servers: [fake.address] });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    expect((await c.echo('first')).toString()).toBe('first');
    await until(() => errors.length > 0, 'the error event');
    expect((await c.echo('still fine')).toString()).toBe('still fine');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe(
      `Unexpected JOB_CREATED from job server ${fake.address}: expected nothing (no request is waiting for a reply)`,
    );
    expect(fake.received.map((p) => p.type)).toEqual(['OPTION_REQ', 'ECHO_REQ', 'ECHO_REQ']);
  });

  it('strips the stray trailing NUL of a WORK_FAIL handle', async () => {
    const fake = cleanup.add(
      await new FakeServer((packet, conn) => {
        if (packet.type === 'OPTION_REQ') conn.send({ type: 'OPTION_RES', option: packet.option });
        if (packet.type === 'SUBMIT_JOB') {
          conn.send({ type: 'JOB_CREATED', handle: 'H:fake:1' });
          conn.sendRaw(rawResponse(14, Buffer.from('H:fake:1\0')));
        }
      }).listen(),
    );
    const c = client({ servers: [fake.address] });
    const error = await c.submit('f', 'x').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).handle).toBe('H:fake:1');
  });
});

void echoHandler;
