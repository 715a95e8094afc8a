/**
 * CAN_DO_TIMEOUT against gearmand 1.1.20 (reference §3.8): a job that runs past the timeout is
 * requeued by the server, not failed; the worker aborts the handler and sends nothing for it (a
 * late result would get ERROR JOB_NOT_FOUND), and the job is served again by a second grab.
 */
import { afterEach, expect, it } from 'vitest';
import { TimeoutError, UsageError } from '../../src/errors.ts';
import { Worker, type JobHandler, type WorkerJob } from '../../src/worker/worker.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { RawClient, functionStatus } from '../helpers/raw-client.ts';

const gearmand = useGearmand();
let worker: Worker | undefined;
let c: RawClient | undefined;

afterEach(async () => {
  await worker?.close({ timeoutMs: 0 });
  await c?.close();
});

/**
 * A handler that, on its first call, waits until the job is aborted (the timeout), then runs
 * `afterAbort` and answers too late; later calls answer 'second attempt'. Each call's handle goes
 * into `attempts`.
 */
function hangsOnce(attempts: string[], afterAbort: (job: WorkerJob) => void = () => {}): JobHandler {
  return async (job) => {
    attempts.push(job.handle);
    if (attempts.length > 1) return 'second attempt';
    await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
    afterAbort(job);
    return 'first attempt, too late';
  };
}

/** Submits 'work' to `fn` from a raw client; the job's handle and its result packets as `TYPE data`. */
async function submitWork(fn: string): Promise<{ handle: string; results: string[] }> {
  c = await RawClient.connect(gearmand.port);
  const handle = await c.submit(fn, 'work');
  const packets = await c.result(handle);
  return { handle, results: packets.map((p) => `${p.type} ${'data' in p ? p.data.toString() : ''}`) };
}

it('rejects timeouts below gearmand’s 1000 ms minimum', () => {
  const w = new Worker({ servers: [gearmand.address] });
  expect(() => w.register('f', () => '', { timeout: 999 })).toThrow(UsageError);
  expect(() => w.register('f', () => '', { timeout: 1500.5 })).toThrow(UsageError);
});

it('a handler that hangs past the timeout is aborted; gearmand requeues the job and the next grab completes it once', async () => {
  const fn = `timeout-${process.pid}`;
  worker = new Worker({ servers: [gearmand.address] });
  const serverErrors: Error[] = [];
  worker.on('error', (error) => serverErrors.push(error));
  const failures: Error[] = [];
  worker.on('job:fail', (_job, error) => failures.push(error));
  const attempts: string[] = [];
  let firstReason: unknown;
  worker.register(
    fn,
    hangsOnce(attempts, (job) => {
      firstReason = job.signal.reason;
      job.sendData('ignored');
    }),
    { timeout: 1000 },
  );
  await worker.start();
  const { handle, results } = await submitWork(fn);
  expect(results).toEqual(['WORK_COMPLETE second attempt']);
  // The same job (same handle) was assigned twice: gearmand took it back after the timeout.
  expect(attempts).toEqual([handle, handle]);
  expect(firstReason).toBeInstanceOf(TimeoutError);
  expect(failures.map((e) => e.constructor.name)).toEqual(['TimeoutError']);
  expect(await functionStatus(gearmand.port, fn)).toEqual({ total: 0, running: 0, workers: 1 });
  expect(serverErrors).toEqual([]);
});

it('concurrency 4 against gearmand: no PRE_SLEEP while a timed job runs, so gearmand still requeues it and the client gets a result', async () => {
  // Issue 16: PRE_SLEEP clears gearmand 1.1.x's per-connection CAN_DO_TIMEOUT timer; the job then
  // stayed `1 1 1` in status forever while our own timer had dropped it.
  const fn = `timeout4-${process.pid}`;
  worker = new Worker({ servers: [gearmand.address], concurrency: 4 });
  const attempts: string[] = [];
  worker.register(fn, hangsOnce(attempts), { timeout: 1000 });
  await worker.start();
  const { handle, results } = await submitWork(fn);
  expect(results).toEqual(['WORK_COMPLETE second attempt']);
  expect(attempts).toEqual([handle, handle]);
  expect(await functionStatus(gearmand.port, fn)).toEqual({ total: 0, running: 0, workers: 1 });
});
