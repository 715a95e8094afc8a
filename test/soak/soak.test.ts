/**
 * Soak: 100,000 small foreground jobs through ONE job server, from 4 Clients at once, run by 4
 * Workers with concurrency 50 each. Every job carries a unique id; the worker answers with a
 * function of the payload, so a result that reached the wrong submit is caught.
 *
 * What must hold at that volume (and does not show with a handful of jobs):
 * - every submit resolves exactly once, with the answer computed from its own payload;
 * - every job ran exactly once on the workers, under the server handle its client was given;
 * - server handles are never reused for two live submits;
 * - the server is empty afterwards (admin `status`: nothing queued or running).
 *
 * Two clients keep their own window of submits in flight (submit the next when one settles); the
 * other two hand all 25,000 submits to the Client at once and rely on its maxInFlight window.
 * The same test runs against our JobServer (as `gmr server`, in its own process as a user runs it,
 * so server and peers do not share one event loop) and a real gearmand. No assertion is on time.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, type JobHandle } from 'gmr';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { freePort, GEARMAND_PATH, startGearmand, waitForPort } from '../helpers/gearmand.ts';
import { REPO_ROOT, spawnGmr } from '../helpers/gmr-cli.ts';

const CLIENTS = 4;
const JOBS_PER_CLIENT = 25_000;
const TOTAL = CLIENTS * JOBS_PER_CLIENT;
const WORKERS = 4;
const CONCURRENCY = 50;
/** Submits each client has in flight at once (own window, or the Client's maxInFlight). */
const WINDOW = 128;
/** A safety net so a lost job fails the test instead of hanging it; never an assertion on speed. */
const LIMIT_MS = 150_000;

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

/** What the worker computes from a payload; the client recomputes it to check the answer. */
function answer(payload: string): string {
  return `${createHash('sha1').update(payload).digest('hex').slice(0, 12)}:${payload.length}`;
}

function payloadOf(client: number, seq: number, nonce: string): string {
  return `${nonce}/c${client}/j${seq}`;
}

interface Tally {
  /** id → number of times a submit for it resolved. */
  resolved: Map<string, number>;
  /** id → the server handle its JobHandle got (JOB_CREATED). */
  clientHandle: Map<string, string>;
  /** Results that did not match the payload of the submit they resolved. */
  wrong: string[];
  failures: Error[];
  /** Handles that emitted 'created' more than once. */
  createdTwice: string[];
}

function track(tally: Tally, id: string, handle: JobHandle): Promise<void> {
  let created = 0;
  handle.on('created', (h) => {
    created++;
    if (created > 1) tally.createdTwice.push(`${id} (${h})`);
    tally.clientHandle.set(id, h);
  });
  return handle.then(
    (result) => {
      tally.resolved.set(id, (tally.resolved.get(id) ?? 0) + 1);
      const text = result.toString();
      if (text !== answer(id)) tally.wrong.push(`${id} got ${text}`);
    },
    (error: unknown) => {
      tally.failures.push(error instanceof Error ? error : new Error(String(error)));
    },
  );
}

/** Keeps `window` submits in flight: the next is submitted when one settles. */
async function ownWindow(client: Client, fn: string, index: number, nonce: string, tally: Tally): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < JOBS_PER_CLIENT) {
      const id = payloadOf(index, next++, nonce);
      await track(tally, id, client.submit(fn, id));
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
}

/** Submits everything at once; the Client's maxInFlight window holds the rest back. */
async function clientWindow(client: Client, fn: string, index: number, nonce: string, tally: Tally): Promise<void> {
  const all: Promise<void>[] = [];
  for (let seq = 0; seq < JOBS_PER_CLIENT; seq++) {
    const id = payloadOf(index, seq, nonce);
    all.push(track(tally, id, client.submit(fn, id)));
  }
  await Promise.all(all);
}

type Kind = 'JobServer' | 'gearmand';

/**
 * The 4 Workers run in a worker thread (the compiled gmr from dist/, which `npm test` builds), so
 * clients and workers do not share one event loop. Each job is held 2 ms, longer than a grab
 * round trip, so the jobs of one worker really overlap. The thread keeps, per id, how many times
 * it ran and the handle it ran under, and hands them over on stop.
 */
const WORKER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { distUrl, address, fn, count, concurrency } = workerData;
const answer = (payload) => createHash('sha1').update(payload).digest('hex').slice(0, 12) + ':' + payload.length;
(async () => {
  const { Worker } = await import(distUrl);
  const runs = new Map();
  const errors = [];
  let maxRunning = 0;
  const workers = [];
  for (let i = 0; i < count; i++) {
    const worker = new Worker({ servers: [address], concurrency, clientId: 'soak-w' + i });
    worker.on('error', (e) => errors.push(String(e && e.message)));
    worker.on('job:fail', (job, e) => errors.push(job.handle + ': ' + String(e && e.message)));
    worker.register(fn, async (job) => {
      maxRunning = Math.max(maxRunning, worker.running);
      const id = job.payload.toString();
      const seen = runs.get(id);
      runs.set(id, seen ? [id, seen[1] + 1, job.handle] : [id, 1, job.handle]);
      await new Promise((resolve) => setTimeout(resolve, 2));
      return answer(id);
    });
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.start()));
  parentPort.once('message', async () => {
    await Promise.allSettled(workers.map((w) => w.close({ timeoutMs: 2000 })));
    parentPort.postMessage({ type: 'done', runs: [...runs.values()], maxRunning, errors });
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((e) => parentPort.postMessage({ type: 'failed', error: String(e && e.stack) }));
`;

interface WorkerSide {
  stop(): Promise<{ runs: Array<[string, number, string]>; maxRunning: number; errors: string[] }>;
}

async function startWorkers(address: string, fn: string): Promise<WorkerSide> {
  const distUrl = pathToFileURL(join(REPO_ROOT, 'dist/src/index.js')).href;
  if (!existsSync(fileURLToPath(distUrl))) throw new Error('dist/ is not built: run npx tsc -p . (npm test does)');
  const thread = new Thread(WORKER_THREAD, {
    eval: true,
    workerData: { distUrl, address, fn, count: WORKERS, concurrency: CONCURRENCY },
  });
  cleanup.defer(() => thread.terminate());
  const next = (): Promise<{ type: string; error?: string }> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      thread.once('error', onError);
      thread.once('message', (message: { type: string; error?: string }) => {
        thread.off('error', onError);
        if (message.type === 'failed') reject(new Error(`worker thread failed: ${message.error}`));
        else resolve(message);
      });
    });
  const ready = await next();
  expect(ready.type).toBe('ready');
  return {
    async stop() {
      const done = next();
      thread.postMessage('stop');
      return (await done) as unknown as Awaited<ReturnType<WorkerSide['stop']>>;
    },
  };
}

/** One job server in its own process; stopped by the cleanup. */
async function startServer(kind: Kind): Promise<{ address: string }> {
  if (kind === 'gearmand') {
    const g = await startGearmand();
    cleanup.defer(() => g.stop());
    return g;
  }
  const port = await freePort();
  const child = spawnGmr(['server', '--port', String(port)]);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // Its log is only "listening on …"; anything else (an error, a crash) fails the test.
    const unexpected = stderr.split('\n').filter((line) => line !== '' && !line.includes('listening on'));
    expect(unexpected, 'gmr server stderr').toEqual([]);
  });
  await Promise.race([
    waitForPort(port),
    exited.then(() => {
      throw new Error(`gmr server exited at start: ${stderr}`);
    }),
  ]);
  return { address: `127.0.0.1:${port}` };
}

async function soak(kind: Kind): Promise<void> {
  const server = await startServer(kind);
  const fn = uniqueName('soak');
  const nonce = uniqueName('n');

  const side = await startWorkers(server.address, fn);

  const tally: Tally = { resolved: new Map(), clientHandle: new Map(), wrong: [], failures: [], createdTwice: [] };
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const client = new Client({ servers: [server.address], maxInFlight: WINDOW, timeoutMs: LIMIT_MS });
    cleanup.defer(() => client.close());
    clients.push(client);
  }
  const started = Date.now();
  await Promise.all(clients.map((c, i) => (i % 2 === 0 ? ownWindow : clientWindow)(c, fn, i, nonce, tally)));
  const seconds = (Date.now() - started) / 1000;

  // The server is empty, with the 4 workers still registered.
  const admin = cleanup.add(new AdminClient({ server: server.address }));
  const status = await admin.status();
  const row = status.find((s) => s.function === fn);
  expect(row, `status has no row for ${fn}: ${JSON.stringify(status)}`).toBeDefined();
  expect(row).toMatchObject({ function: fn, total: 0, running: 0, workers: WORKERS });
  expect(status.filter((s) => s.total !== 0 || s.running !== 0)).toEqual([]);

  const done = await side.stop();
  console.info(`soak ${kind}: ${TOTAL} jobs in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)} jobs/s), max ${done.maxRunning} running in one worker`);

  expect(tally.failures.slice(0, 5).map((e) => e.message)).toEqual([]);
  expect(tally.wrong.slice(0, 5)).toEqual([]);
  expect(tally.createdTwice.slice(0, 5)).toEqual([]);
  // Every id resolved exactly once, with the answer computed from its own payload.
  expect(tally.resolved.size).toBe(TOTAL);
  expect([...tally.resolved.values()].filter((n) => n !== 1)).toEqual([]);
  // Every job ran exactly once, under the handle its client was given; handles are all distinct.
  expect(done.errors.slice(0, 5)).toEqual([]);
  const runs = new Map(done.runs.map(([id, n]) => [id, n]));
  const workerHandle = new Map(done.runs.map(([id, , h]) => [id, h]));
  expect(runs.size).toBe(TOTAL);
  expect([...runs.entries()].filter(([, n]) => n !== 1).slice(0, 5)).toEqual([]);
  expect(tally.clientHandle.size).toBe(TOTAL);
  expect(new Set(tally.clientHandle.values()).size).toBe(TOTAL);
  const mismatched = [...tally.clientHandle].filter(([id, h]) => workerHandle.get(id) !== h);
  expect(mismatched.slice(0, 5)).toEqual([]);
  // The workers really ran jobs side by side, never more than their concurrency.
  expect(done.maxRunning).toBeGreaterThan(1);
  expect(done.maxRunning).toBeLessThanOrEqual(CONCURRENCY);
}

describe('soak: 100,000 foreground jobs, 4 clients, 4 workers x 50, one server', () => {
  it('JobServer delivers every result exactly once to its own submit', { timeout: LIMIT_MS + 30_000 }, async () => {
    await soak('JobServer');
  });

  it.skipIf(!GEARMAND_PATH)(
    `gearmand delivers every result exactly once to its own submit${GEARMAND_PATH ? '' : ' (SKIPPED: gearmand is not installed; .ci/run installs gearman-job-server)'}`,
    { timeout: LIMIT_MS + 30_000 },
    async () => {
      await soak('gearmand');
    },
  );
});
