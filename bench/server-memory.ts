/**
 * bench/server-memory: resident memory of queued background jobs (small payloads, no workers) in
 * gearmand (default -t) and in our JobServer, in one run. Each server runs in its own process and
 * its VmRSS is read from /proc/<pid>/status before and after the jobs are queued.
 *
 *   npx tsx bench/server-memory.ts [--jobs 100000] [--payload 32]
 *
 * The jobs are submitted by our Client from this process (SUBMIT_JOB_BG, 1000 in flight, a 36-byte
 * UUID unique per job, as every background submit of gmr's Client sends), and the admin `status`
 * command confirms every job is queued before RSS is read. JobServer runs with --expose-gc: its
 * RSS is read after a full GC (and also before it, since garbage is what a live server carries).
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminClient } from '../src/client/admin-client.ts';
import { Client } from '../src/client/client.ts';
import { rssBytes, spawnTs, startGearmand } from './lib/processes.ts';
import { flag } from './lib/args.ts';

const JOBS = Number(flag('jobs', '100000'));
const PAYLOAD = Number(flag('payload', '32'));
const SETTLE_MS = 500;

interface Row {
  server: string;
  before: number;
  after: number;
  afterGc?: number;
  seconds: number;
}

/** Queues JOBS background jobs of a function nobody serves; resolves once `status` shows them. */
async function fill(address: string): Promise<number> {
  const fn = `bench_memory_${process.pid}`;
  const payload = Buffer.alloc(PAYLOAD, 0x61);
  const client = new Client({ servers: [address], maxInFlight: 1000 });
  const t0 = performance.now();
  try {
    const submits: Promise<string>[] = [];
    for (let i = 0; i < JOBS; i++) submits.push(client.submitBackground(fn, payload));
    await Promise.all(submits);
  } finally {
    await client.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const admin = new AdminClient({ server: address });
  try {
    const queued = (await admin.status()).find((s) => s.function === fn)?.total ?? 0;
    if (queued !== JOBS) throw new Error(`${address} reports ${queued} queued jobs of ${fn}, expected ${JOBS}`);
  } finally {
    await admin.close();
  }
  return seconds;
}

async function measureGearmand(): Promise<Row> {
  const gearmand = await startGearmand();
  try {
    await sleep(SETTLE_MS);
    const before = rssBytes(gearmand.pid);
    const seconds = await fill(gearmand.address);
    await sleep(SETTLE_MS);
    return { server: gearmand.version, before, after: rssBytes(gearmand.pid), seconds };
  } finally {
    await gearmand.stop();
  }
}

async function measureJobServer(): Promise<Row> {
  const child = spawnTs('job-server-child.ts', [], ['--expose-gc']);
  try {
    const { port, pid } = await child.next<{ port: number; pid: number }>(15_000, 'the JobServer to listen');
    const gc = async (): Promise<void> => {
      child.send('gc');
      await child.next(10_000, 'a GC in the JobServer');
    };
    await sleep(SETTLE_MS);
    await gc();
    const before = rssBytes(pid);
    const seconds = await fill(`127.0.0.1:${port}`);
    await sleep(SETTLE_MS);
    const after = rssBytes(pid);
    await gc();
    await sleep(SETTLE_MS);
    return { server: 'gmr JobServer', before, after, afterGc: rssBytes(pid), seconds };
  } finally {
    await child.stop();
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const perJob = (bytes: number): string => Math.round(bytes / JOBS).toLocaleString('en-US');

const rows = [await measureGearmand(), await measureJobServer()];
const out = [
  `Machine: ${availableParallelism()} cores, Node ${process.version}; ${JOBS.toLocaleString('en-US')} background jobs, ` +
    `${PAYLOAD}-byte payloads, 36-byte uniques, no workers.`,
  '',
  '| Server | RSS before (MiB) | RSS with jobs queued (MiB) | Δ RSS (MiB) | bytes per queued job | submit time (s) |',
  '|---|---:|---:|---:|---:|---:|',
];
for (const row of rows) {
  const delta = row.after - row.before;
  out.push(`| ${row.server} | ${mib(row.before)} | ${mib(row.after)} | ${mib(delta)} | **${perJob(delta)}** | ${row.seconds.toFixed(2)} |`);
  if (row.afterGc !== undefined) {
    const deltaGc = row.afterGc - row.before;
    out.push(`| ${row.server}, after a full GC | ${mib(row.before)} | ${mib(row.afterGc)} | ${mib(deltaGc)} | **${perJob(deltaGc)}** | |`);
  }
}
const [gd, js] = rows;
if (gd && js) {
  const jsDelta = (js.afterGc ?? js.after) - js.before;
  out.push('', `JobServer holds a queued job in ${((jsDelta / (gd.after - gd.before)) * 100).toFixed(0)}% of gearmand's memory (after GC).`);
}
process.stdout.write(`${out.join('\n')}\n`);
