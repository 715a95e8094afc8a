/**
 * `gmr server -q libsqlite3 --libsqlite3-db FILE` across kill -9 and restarts: 10,000 queued
 * background jobs of three priorities served exactly once in priority order by the restarted
 * server; --store-queue-on-shutdown as gearmand does it; a queue gearmand 1.1.20 wrote replayed by
 * gmr server and the other way round; usage errors and a corrupt file in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client, JobServer, Worker } from 'gmr';
import { startGearmand } from '../../helpers/gearmand.ts';
import { uniqueName } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { Harness, exitOf, type Proc } from '../../helpers/harness.ts';
import { readQueueFile } from './queue-file.ts';

const root = mkdtempSync(join(tmpdir(), 'gmr-queue-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const h = new Harness();
afterEach(() => h.cleanup());
let files = 0;
const queueFile = (): string => join(root, `q${++files}.db`);

const PRIORITIES = ['high', 'normal', 'low'] as const;

async function queueServer(file: string, extra: string[] = []): Promise<{ proc: Proc; address: string }> {
  const proc = h.gmr(['server', '--port', '0', '-q', 'libsqlite3', `--libsqlite3-db=${file}`, ...extra]);
  await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(proc.stderr()) || proc.child.exitCode !== null, 'gmr server to listen', 60_000);
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(proc.stderr())?.[1];
  if (port === undefined) throw new Error(`gmr server did not start: ${proc.stderr()}`);
  return { proc, address: `127.0.0.1:${port}` };
}

async function kill9(proc: Proc): Promise<void> {
  proc.child.kill('SIGKILL');
  expect((await exitOf(proc)).signal).toBe('SIGKILL');
}

/**
 * A worker recording each job's unique as it starts it. The jobs arrive on one connection in the
 * order the server hands them out, and start in that order, so several may run at once.
 */
async function recorder(address: string, fn: string): Promise<{ ran: string[]; worker: Worker }> {
  const ran: string[] = [];
  const worker = new Worker({ servers: [address], concurrency: 8 });
  h.defer(() => worker.close());
  worker.register(fn, (job) => {
    ran.push(job.unique);
    return '';
  });
  await worker.start();
  return { ran, worker };
}

/** Uniques of jobs 0..n-1 where job i has priority PRIORITIES[i % 3]: HIGH ones, then NORMAL, then LOW, each in submit order. */
function priorityOrder(n: number, name: (i: number) => string): string[] {
  const order: string[] = [];
  for (let p = 0; p < 3; p++) for (let i = p; i < n; i += 3) order.push(name(i));
  return order;
}

describe('gmr server with a libsqlite3 queue across restarts', () => {
  it('serves each of 10,000 acknowledged background jobs of three priorities exactly once, in priority order, after kill -9 and a restart on the same file', async () => {
    const file = queueFile();
    const fn = uniqueName('q.kill');
    const n = 10_000;
    const first = await queueServer(file);
    const client = new Client({ servers: [first.address] });
    await Promise.all(Array.from({ length: n }, (_, i) => client.submitBackground(fn, String(i), { unique: `job-${i}`, priority: PRIORITIES[i % 3] })));
    await client.close();
    // Every JOB_CREATED has arrived; no worker ever connected. Kill the server without warning.
    await kill9(first.proc);

    const second = await queueServer(file);
    const { ran, worker } = await recorder(second.address, fn);
    await waitFor(() => ran.length >= n, `${n} jobs run`, 300_000);
    await worker.close();
    expect(ran).toEqual(priorityOrder(n, (i) => `job-${i}`));
    second.proc.child.kill('SIGTERM');
    expect((await exitOf(second.proc)).code).toBe(0);
    expect(readQueueFile(file).rows).toEqual([]);
  });

  it('--store-queue-on-shutdown writes nothing while running (kill -9 loses the jobs, as in gearmand), saves them at SIGTERM, replays and empties the table at start', async () => {
    const file = queueFile();
    const fn = uniqueName('q.shutdown');
    const first = await queueServer(file, ['--store-queue-on-shutdown']);
    let client = new Client({ servers: [first.address] });
    await client.submitBackground(fn, 'lost', { unique: 'lost' });
    await client.close();
    await kill9(first.proc);
    expect(readQueueFile(file).rows).toEqual([]);

    const second = await queueServer(file, ['--store-queue-on-shutdown']);
    client = new Client({ servers: [second.address] });
    for (let i = 0; i < 6; i++) await client.submitBackground(fn, `payload ${i}`, { unique: `kept-${i}`, priority: PRIORITIES[i % 3] });
    await client.close();
    second.proc.child.kill('SIGTERM');
    expect((await exitOf(second.proc)).code).toBe(0);
    expect(readQueueFile(file).rows.map((r) => [r.unique, r.priority, r.data])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`kept-${i}`, i % 3, `payload ${i}`]),
    );

    const third = await queueServer(file, ['--store-queue-on-shutdown']);
    const { ran } = await recorder(third.address, fn);
    await waitFor(() => ran.length >= 6, 'the six saved jobs');
    expect(ran).toEqual(priorityOrder(6, (i) => `kept-${i}`));
    // Replayed and emptied at start: a kill now leaves nothing to run twice.
    await kill9(third.proc);
    expect(readQueueFile(file).rows).toEqual([]);
  });

  it('--queue sqlite --queue-file PATH (the spelling gmr documents next to gearmand\'s) keeps an acknowledged job across kill -9', async () => {
    const file = queueFile();
    const fn = uniqueName('q.alias');
    const proc = h.gmr(['server', '--port', '0', '--queue', 'sqlite', '--queue-file', file]);
    await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(proc.stderr()) || proc.child.exitCode !== null, 'gmr server to listen', 60_000);
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(proc.stderr())?.[1];
    expect(port, proc.stderr()).toBeDefined();
    const client = new Client({ servers: [`127.0.0.1:${port}`] });
    await client.submitBackground(fn, 'kept', { unique: 'alias-1', priority: 'low' });
    await client.close();
    await kill9(proc);
    expect(readQueueFile(file).rows).toEqual([{ unique: 'alias-1', fn, priority: 2, data: 'kept', when: 0 }]);
  });

  it('usage errors and a corrupt queue file stop gmr server with one line', async () => {
    const garbage = queueFile();
    writeFileSync(garbage, 'not SQLite at all\n'.repeat(200));
    for (const [args, code, message] of [
      [['-q', 'libsqlite3'], 64, /^gmr: --queue-type libsqlite3 needs --libsqlite3-db FILE$/],
      [['--libsqlite3-db', garbage], 64, /^gmr: --libsqlite3-db needs --queue-type libsqlite3$/],
      [['--queue-type', 'redis'], 64, /^gmr: --queue-type takes builtin or libsqlite3, received "redis"$/],
      [['-q', 'libsqlite3', '--libsqlite3-db', garbage, '--libsqlite3-table', 'x; drop table y'], 64, /^gmr: Queue table name must be letters, digits and _/],
      [['-q', 'libsqlite3', '--libsqlite3-db', garbage], 66, new RegExp(`^gmr: Queue file ${garbage} cannot be used as an SQLite queue: file is not a database$`)],
      [['--queue', 'redis'], 64, /^gmr: --queue takes sqlite or memory, received "redis"$/],
      [['--queue', 'sqlite', '-q', 'libsqlite3', '--queue-file', garbage], 64, /^gmr: --queue and --queue-type name the same thing: give one$/],
      [['--queue', 'sqlite'], 64, /^gmr: --queue-type libsqlite3 needs --libsqlite3-db FILE$/],
      [['--queue', 'sqlite', '--queue-file', garbage], 66, new RegExp(`^gmr: Queue file ${garbage} cannot be used as an SQLite queue: file is not a database$`)],
    ] as Array<[string[], number, RegExp]>) {
      const proc = h.gmr(['server', '--port', '0', ...args]);
      const exit = await exitOf(proc, 60_000);
      expect([args.join(' '), exit.code]).toEqual([args.join(' '), code]);
      const lines = proc.stderr().split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  });
});

describe('the queue file between gearmand 1.1.20 and gmr server', () => {
  const jobs = Array.from({ length: 9 }, (_, i) => ({ unique: `g-${i}`, payload: `payload ${i}`, priority: PRIORITIES[i % 3] }));

  it('gmr server replays a queue gearmand -q libsqlite3 wrote and was killed over: every job once, in priority order, with its unique', async () => {
    const file = queueFile();
    const fn = uniqueName('q.fromgearmand');
    const gearmand = await startGearmand(['-q', 'libsqlite3', `--libsqlite3-db=${file}`]);
    h.defer(() => gearmand.stop());
    const client = new Client({ servers: [gearmand.address] });
    for (const job of jobs) await client.submitBackground(fn, job.payload, { unique: job.unique, priority: job.priority });
    await client.close();
    await gearmand.kill();
    // What gearmand wrote, read by python3: one row per job, its priority as gearman_job_priority_t.
    expect(readQueueFile(file).rows).toEqual(jobs.map((j, i) => ({ unique: j.unique, fn, priority: i % 3, data: j.payload, when: 0 })));

    const server = await JobServer.listen({ port: 0, queue: { type: 'libsqlite3', file } });
    h.defer(() => server.close());
    const { ran, worker } = await recorder(server.address, fn);
    await waitFor(() => ran.length >= jobs.length, 'the jobs gearmand queued');
    await worker.close();
    expect(ran).toEqual(priorityOrder(jobs.length, (i) => `g-${i}`));
    await server.close();
    expect(readQueueFile(file).rows).toEqual([]);
  });

  it('gearmand -q libsqlite3 replays a queue gmr server wrote and was killed over (kill -9)', async () => {
    const file = queueFile();
    const fn = uniqueName('q.togearmand');
    const ours = await queueServer(file);
    const client = new Client({ servers: [ours.address] });
    for (const job of jobs) await client.submitBackground(fn, job.payload, { unique: job.unique, priority: job.priority });
    await client.close();
    await kill9(ours.proc);

    const gearmand = await startGearmand(['-q', 'libsqlite3', `--libsqlite3-db=${file}`]);
    h.defer(() => gearmand.stop());
    const { ran, worker } = await recorder(gearmand.address, fn);
    await waitFor(() => ran.length >= jobs.length, 'gearmand to serve the jobs gmr server queued');
    await worker.close();
    expect(ran).toEqual(priorityOrder(jobs.length, (i) => `g-${i}`));
    await gearmand.stop();
    expect(readQueueFile(file).rows).toEqual([]);
  });
});
