/**
 * The worker against a real gearmand: results, progress packets, exceptions, payload edge sizes and
 * concurrency on one connection.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.ts';
import { Worker, type WorkerJob } from '../../src/worker/worker.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { RawClient, adminCommand, functionStatus } from '../helpers/raw-client.ts';
import { deferred, waitFor } from '../helpers/wait-for.ts';

const gearmand = useGearmand();
let worker: Worker | undefined;
let clients: RawClient[] = [];
let serverErrors: Error[] = [];
let counter = 0;

const fnName = (what: string): string => `jobs-${what}-${process.pid}-${++counter}`;

async function startWorker(options: ConstructorParameters<typeof Worker>[0] = {}): Promise<Worker> {
  worker = new Worker({ servers: [gearmand.address], ...options });
  worker.on('error', (error) => serverErrors.push(error));
  return worker;
}

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(gearmand.port);
  clients.push(c);
  return c;
}

afterEach(async () => {
  await worker?.close({ timeoutMs: 0 });
  worker = undefined;
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  serverErrors = [];
});

describe('Worker results', () => {
  it('sends the handler result as WORK_COMPLETE, and nothing else', async () => {
    const fn = fnName('complete');
    const w = await startWorker();
    w.register(fn, (job) => `${job.fn}:${job.unique}:${job.payload.toString().toUpperCase()}`);
    await w.start();
    const packets = await (await client()).run(fn, 'hello', { unique: 'u-1' });
    expect(packets.map((p) => [p.type, 'data' in p ? p.data.toString() : ''])).toEqual([['WORK_COMPLETE', `${fn}:u-1:HELLO`]]);
  });

  it('turns void, Uint8Array and Buffer results into the right bytes', async () => {
    const fn = fnName('kinds');
    const w = await startWorker();
    w.register(fn, (job) => {
      const kind = job.payload.toString();
      if (kind === 'void') return;
      if (kind === 'u8') return new Uint8Array([0, 1, 2, 255]).subarray(1, 4);
      return Buffer.from('buf');
    });
    await w.start();
    const c = await client();
    const results = await Promise.all(['void', 'u8', 'buf'].map((kind) => c.run(fn, kind)));
    expect(results.map((r) => r.map((p) => [p.type, 'data' in p ? [...p.data] : []]))).toEqual([
      [['WORK_COMPLETE', []]],
      [['WORK_COMPLETE', [1, 2, 255]]],
      [['WORK_COMPLETE', [...Buffer.from('buf')]]],
    ]);
  });

  it('delivers status, data and warning to the client in the order they were sent', async () => {
    const fn = fnName('progress');
    const w = await startWorker();
    w.register(fn, async (job) => {
      job.sendStatus(1, 3);
      job.sendData('part-a');
      job.sendWarning('careful');
      job.sendStatus(2, 3);
      await job.writeData(Buffer.from([0, 0, 7]));
      return 'done';
    });
    await w.start();
    const packets = await (await client()).run(fn, '');
    expect(
      packets.map((p) => (p.type === 'WORK_STATUS' ? `${p.type} ${p.numerator}/${p.denominator}` : `${p.type} ${'data' in p ? p.data.toString('hex') : ''}`)),
    ).toEqual([
      'WORK_STATUS 1/3',
      `WORK_DATA ${Buffer.from('part-a').toString('hex')}`,
      `WORK_WARNING ${Buffer.from('careful').toString('hex')}`,
      'WORK_STATUS 2/3',
      'WORK_DATA 000007',
      `WORK_COMPLETE ${Buffer.from('done').toString('hex')}`,
    ]);
  });

  it('ignores progress calls after the job finished (no crash, nothing sent, no server error)', async () => {
    const fn = fnName('late');
    const w = await startWorker();
    let captured: WorkerJob | undefined;
    w.register(fn, (job) => {
      captured = job;
      return job.payload;
    });
    await w.start();
    const c = await client();
    const handle = await c.submit(fn, 'first');
    await c.result(handle);
    expect(() => {
      captured?.sendStatus(1, 2);
      captured?.sendData('late');
      captured?.sendWarning('late');
    }).not.toThrow();
    await captured?.writeData('late');
    // A second round trip on the same connections: an ERROR JOB_NOT_FOUND would have come first.
    await c.run(fn, 'second');
    expect(c.packets(handle).map((p) => p.type)).toEqual(['WORK_COMPLETE']);
    expect(serverErrors).toEqual([]);
  });

  it('by default reports a thrown error as WORK_WARNING(message) + WORK_FAIL to every client, no server error', async () => {
    const fn = fnName('throws');
    const w = await startWorker();
    const failed: string[] = [];
    w.on('job:fail', (job, error) => failed.push(`${job.payload.toString()}:${error.message}`));
    w.register(fn, async (job) => {
      await Promise.resolve();
      throw new Error(`boom ${job.payload.toString()}`);
    });
    w.register(`${fn}-ok`, () => 'ok');
    await w.start();
    const plain = await client();
    const withOption = await client();
    expect(await withOption.option('exceptions')).toBe('exceptions');
    const shape = (packets: { type: string }[]): string[] => packets.map((p) => `${p.type} ${'data' in p && Buffer.isBuffer(p.data) ? p.data.toString() : ''}`.trim());
    expect(shape(await plain.run(fn, 'p'))).toEqual(['WORK_WARNING boom p', 'WORK_FAIL']);
    expect(shape(await withOption.run(fn, 'x'))).toEqual(['WORK_WARNING boom x', 'WORK_FAIL']);
    // A server error for our packets would arrive before the answer to this later job.
    await plain.run(`${fn}-ok`, '');
    expect(serverErrors).toEqual([]);
    expect(failed.sort()).toEqual(['p:boom p', 'x:boom x']);
  });

  it('with failWith WORK_EXCEPTION: exceptions clients get the text; gearmand turns it into WORK_FAIL for the others', async () => {
    const fn = fnName('throws-exc');
    const w = await startWorker({ failWith: 'WORK_EXCEPTION' });
    w.register(fn, (job) => {
      throw new Error(`boom ${job.payload.toString()}`);
    });
    w.register(`${fn}-ok`, () => 'ok');
    await w.start();
    const plain = await client();
    const withOption = await client();
    await withOption.option('exceptions');
    const plainResult = await plain.run(fn, 'p');
    const optionResult = await withOption.run(fn, 'x');
    expect(plainResult.map((p) => p.type)).toEqual(['WORK_FAIL']);
    expect(optionResult.map((p) => [p.type, 'data' in p ? p.data.toString() : ''])).toEqual([['WORK_EXCEPTION', 'boom x']]);
    // Had the worker sent an extra WORK_FAIL, gearmand would answer ERROR JOB_NOT_FOUND before this.
    await plain.run(`${fn}-ok`, '');
    expect(serverErrors.filter((e) => e instanceof ServerError)).toEqual([]);
    expect(plain.errors).toEqual([]);
  });

  it('sends a thrown string as the exception text', async () => {
    const fn = fnName('throws-string');
    const w = await startWorker({ failWith: 'WORK_EXCEPTION' });
    w.register(fn, () => {
      throw 'plain string'; // eslint-disable-line no-throw-literal
    });
    await w.start();
    const c = await client();
    await c.option('exceptions');
    const result = await c.run(fn, '');
    expect(result.map((p) => [p.type, 'data' in p ? p.data.toString() : ''])).toEqual([['WORK_EXCEPTION', 'plain string']]);
  });
});

describe('Worker payloads through gearmand', () => {
  const sizes = [0, 65_535, 65_536, 65_537, 16 * 1024 * 1024];
  it.each(sizes)('echoes a %i-byte payload intact', async (size) => {
    const fn = fnName(`echo-${size}`);
    const w = await startWorker();
    let seen = -1;
    w.register(fn, (job) => {
      seen = job.payload.length;
      return job.payload;
    });
    await w.start();
    const payload = randomBytes(size);
    const result = await (await client()).run(fn, payload);
    expect(seen).toBe(size);
    expect(result.length).toBe(1);
    const [complete] = result;
    expect(complete?.type).toBe('WORK_COMPLETE');
    expect(complete && 'data' in complete && complete.data.equals(payload)).toBe(true);
  });

  it('keeps binary data full of NULs as one payload, both ways, also as WORK_DATA', async () => {
    const fn = fnName('nuls');
    const w = await startWorker();
    w.register(fn, (job) => {
      job.sendData(job.payload);
      return Buffer.concat([job.payload, Buffer.alloc(3)]);
    });
    await w.start();
    const payload = Buffer.alloc(70_000);
    for (let i = 0; i < payload.length; i += 7) payload[i] = i % 256;
    const [data, complete] = await (await client()).run(fn, payload);
    expect(data?.type).toBe('WORK_DATA');
    expect(data && 'data' in data && data.data.equals(payload)).toBe(true);
    expect(complete && 'data' in complete && complete.data.equals(Buffer.concat([payload, Buffer.alloc(3)]))).toBe(true);
  });
});

describe('Worker concurrency and identity', () => {
  it('runs `concurrency` jobs at once on one connection, never more', async () => {
    const fn = fnName('concurrent');
    const w = await startWorker({ concurrency: 3 });
    const gate = deferred();
    let current = 0;
    let peak = 0;
    w.register(fn, async (job) => {
      current++;
      peak = Math.max(peak, current);
      await gate.promise;
      current--;
      return job.payload;
    });
    await w.start();
    const c = await client();
    const handles = await Promise.all(['1', '2', '3', '4', '5'].map((p) => c.submit(fn, p)));
    await waitFor(() => current === 3, 'three handlers running');
    expect(w.running).toBe(3);
    // gearmand agrees: 5 jobs, 3 of them assigned (to our one connection), 1 worker.
    expect(await functionStatus(gearmand.port, fn)).toEqual({ total: 5, running: 3, workers: 1 });
    gate.resolve();
    const results = await Promise.all(handles.map((h) => c.result(h)));
    expect(results.map((r) => (r[0] && 'data' in r[0] ? r[0].data.toString() : ''))).toEqual(['1', '2', '3', '4', '5']);
    expect(peak).toBe(3);
  });

  it('sends SET_CLIENT_ID, visible in the workers admin listing', async () => {
    const fn = fnName('id');
    const id = `gmr-test-${process.pid}-${counter}`;
    const w = await startWorker({ clientId: id });
    w.register(fn, () => 'x');
    await w.start();
    await waitFor(async () => (await adminCommand(gearmand.port, 'workers')).some((l) => l.includes(` ${id} : ${fn}`)), 'the worker row');
    expect((await adminCommand(gearmand.port, 'workers')).filter((l) => l.includes(id))).toEqual([expect.stringMatching(new RegExp(` ${id} : ${fn}$`))]);
  });
});
