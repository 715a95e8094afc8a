/**
 * A worker process killed mid-job: gearmand requeues the job when the connection drops (reference
 * §3.7) and a second worker finishes it; the client sees exactly one result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { Worker } from '../../src/worker/worker.ts';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/workers/sleepy-worker.ts', import.meta.url));
// `node --import tsx` rather than `npx tsx`: one process, so SIGKILL hits the worker itself
// (tsx's CLI would run it in a grandchild that survives the kill).
const TSX = createRequire(import.meta.url).resolve('tsx');

let gearmand: GearmandHandle | undefined;
let child: ChildProcess | undefined;
let worker: Worker | undefined;
let c: RawClient | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await worker?.close({ timeoutMs: 0 });
  await c?.close();
  await gearmand?.stop();
});

it('a job held by a SIGKILLed worker process is finished by another worker, and the client gets one result', async () => {
  gearmand = await startGearmand();
  const fn = `crash-${process.pid}`;
  const proc = spawn(process.execPath, ['--import', TSX, FIXTURE], {
    env: { ...process.env, SERVER: gearmand.address, FN: fn },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  await waitFor(() => out.includes('ready\n'), 'the child worker to start');

  c = await RawClient.connect(gearmand.port);
  const handle = await c.submit(fn, 'precious', { unique: 'only-once' });
  await waitFor(() => out.includes(`holding ${handle}\n`), 'the child to hold the job');
  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const served: string[] = [];
  worker = new Worker({ servers: [gearmand.address] });
  worker.register(fn, (job) => {
    served.push(`${job.handle} ${job.unique}`);
    return `finished ${job.payload.toString()}`;
  });
  await worker.start();
  const packets = await c.result(handle);
  expect(packets.map((p) => `${p.type} ${'data' in p ? p.data.toString() : ''}`)).toEqual(['WORK_COMPLETE finished precious']);
  expect(served).toEqual([`${handle} only-once`]);
  // A second round trip on the client connection: nothing else arrived for that handle.
  await c.run(fn, 'later');
  expect(c.packets(handle)).toHaveLength(1);
});
