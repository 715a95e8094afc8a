/**
 * Our Client and our Worker together on a real gearmand: a handler that throws reaches the client
 * with its message in both of the Worker's failure modes (WORK_WARNING + WORK_FAIL by default,
 * WORK_EXCEPTION on request).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.ts';
import { JobExceptionError, JobFailedError } from '../../src/errors.ts';
import { Worker } from '../../src/worker/worker.ts';
import { useGearmand } from '../helpers/gearmand.ts';

const gearmand = useGearmand();
let client: Client | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await client?.close();
  await worker?.close({ timeoutMs: 1000 });
  client = undefined;
  worker = undefined;
});

describe('a handler that throws, seen by our Client', () => {
  it.each([
    ['WORK_FAIL' as const, JobFailedError],
    ['WORK_EXCEPTION' as const, JobExceptionError],
  ])('failWith %s: the client error carries the message', async (failWith, ErrorClass) => {
    const fn = `throws-${failWith}-${process.pid}`;
    worker = new Worker({ servers: [gearmand.address], failWith });
    worker.register(fn, () => {
      throw new Error('disk on fire at record 17');
    });
    await worker.start();
    client = new Client({ servers: [gearmand.address] });
    const error = await client.submit(fn, 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as Error).message).toContain('disk on fire at record 17');
  });
});
