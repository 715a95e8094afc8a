/**
 * bench/gearman-throughput: foreground jobs per second, small payloads, many jobs in flight, in one
 * run against one gearmand (default `-t`, started here on a free loopback port), for
 *   gmr      our Client + our Worker
 *   abraxas  abraxas Client.connect + registerWorker / submitJob
 *   gearman  mreinstein/node-gearman, raw packets (see bench/lib/libraries.ts), as shipped and
 *            with TCP_NODELAY forced on (`gearman-nodelay`, a diagnostic: the package never sets it)
 * and then our Client + Worker against our JobServer (run in its own process, as gearmand is).
 *
 *   npx tsx bench/gearman-throughput.ts [--jobs 10000] [--warmup 1000] [--runs 3]
 *                                       [--inflight 100,1000] [--concurrency 100] [--limit-s 15]
 *                                       [--only gmr,abraxas,...] [--cpu-prof DIR]
 *
 * For every configuration the worker and the client run in their own processes (one connection
 * each), the client does a warm-up, then `runs` timed rounds of `jobs` jobs; the best round counts.
 * CPU per job is read from /proc for the worker and server and from process.cpuUsage() in the
 * client, to show which process is the bottleneck on a small machine. A round still running after
 * --limit-s stops submitting and reports the rate of the jobs it did (flagged in the table), which
 * keeps the whole benchmark to a few minutes even when a library stalls. --cpu-prof DIR runs our
 * client, worker and JobServer under `node --cpu-prof` (slower; for finding hot spots, not figures).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { LIBRARIES, type Library } from './lib/libraries.ts';
import { cpuMs, spawnTs, startGearmand, type LineChild } from './lib/processes.ts';
import { flag } from './lib/args.ts';

const JOBS = Number(flag('jobs', '10000'));
const WARMUP = Number(flag('warmup', '1000'));
const RUNS = Number(flag('runs', '3'));
const INFLIGHT = flag('inflight', '100,1000').split(',').map(Number);
const CONCURRENCY = Number(flag('concurrency', '100'));
const LIMIT_MS = Number(flag('limit-s', '15')) * 1000;
/** How long we wait for a child's answer before we call it hung. */
const TIMEOUT_MS = LIMIT_MS + 30_000;
const ONLY = flag('only', LIBRARIES.join(',')).split(',');
const PROFILE_DIR = flag('cpu-prof', '');
/** Node flags for our own processes: a CPU profile per process when --cpu-prof is given. */
const ourFlags = (lib: Library): string[] => (PROFILE_DIR && lib === 'gmr' ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []);

interface Target {
  name: string;
  address: string;
  pid: number;
}

interface Measurement {
  lib: Library;
  server: string;
  inflight: number;
  /** jobs/s of every timed round, or the reason the configuration could not run. */
  rates: number[];
  /** Rounds that hit --limit-s, as "done of asked". */
  truncated: string[];
  error?: string;
  /** CPU µs per job in the best round. */
  clientUs?: number;
  workerUs?: number;
  serverUs?: number;
}

let fnCounter = 0;

async function measure(lib: Library, target: Target, inflight: number): Promise<Measurement> {
  const result: Measurement = { lib, server: target.name, inflight, rates: [], truncated: [] };
  const fn = `bench_${lib}_${inflight}_${process.pid}_${++fnCounter}`;
  const children: LineChild[] = [];
  try {
    const worker = spawnTs('throughput-worker.ts', [lib, target.address, fn, String(CONCURRENCY)], ourFlags(lib));
    children.push(worker);
    await worker.next(15_000, `the ${lib} worker to connect`);
    const client = spawnTs('throughput-client.ts', [
      lib,
      target.address,
      fn,
      String(inflight),
      String(JOBS),
      String(WARMUP),
      String(LIMIT_MS),
    ], ourFlags(lib));
    children.push(client);
    await client.next(TIMEOUT_MS, `the ${lib} client's warm-up`);
    let best = 0;
    for (let run = 0; run < RUNS; run++) {
      const worker0 = cpuMs(worker.pid);
      const server0 = cpuMs(target.pid);
      client.send('go');
      const round = await client.next<{ jobs: number; ms: number; cpuMs: number }>(TIMEOUT_MS, `${JOBS} ${lib} jobs`);
      const workerCpu = cpuMs(worker.pid) - worker0;
      const serverCpu = cpuMs(target.pid) - server0;
      const rate = round.jobs / (round.ms / 1000);
      result.rates.push(rate);
      if (round.jobs < JOBS) result.truncated.push(`${round.jobs.toLocaleString('en-US')} of ${JOBS.toLocaleString('en-US')}`);
      if (rate > best) {
        best = rate;
        result.clientUs = (round.cpuMs * 1000) / round.jobs;
        result.workerUs = (workerCpu * 1000) / round.jobs;
        result.serverUs = (serverCpu * 1000) / round.jobs;
      }
      process.stderr.write(`  ${lib} → ${target.name}, ${inflight} in flight, round ${run + 1}: ${Math.round(rate)} jobs/s\n`);
    }
  } catch (error) {
    result.error = (error as Error).message;
    process.stderr.write(`  ${lib} → ${target.name}, ${inflight} in flight: FAILED: ${result.error}\n`);
  } finally {
    await Promise.all(children.reverse().map((c) => c.stop()));
  }
  return result;
}

const best = (m: Measurement | undefined): number | undefined =>
  m && !m.error && m.rates.length > 0 ? Math.max(...m.rates) : undefined;
const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`;

function cells(m: Measurement): string {
  if (m.error) return `could not run: ${m.error.replace(/\|/g, '/')} | – | – | – | –`;
  const cut = m.truncated.length > 0 ? ` (stopped at ${LIMIT_MS / 1000} s: ${m.truncated.join(', ')} jobs)` : '';
  const rounds = m.rates.map((r) => fmt(r)).join(' / ') + cut;
  return `**${fmt(best(m))}** | ${rounds} | ${fmt(m.clientUs, 1)} | ${fmt(m.workerUs, 1)} | ${fmt(m.serverUs, 1)}`;
}

async function main(): Promise<void> {
  const gearmand = await startGearmand();
  const jobServer = spawnTs('job-server-child.ts', [], ourFlags('gmr'));
  const load0 = loadavg()[0] ?? 0;
  try {
    const listening = await jobServer.next<{ port: number; pid: number }>(15_000, 'the JobServer to listen');
    const targets = {
      gearmand: { name: 'gearmand', address: gearmand.address, pid: gearmand.pid },
      jobServer: { name: 'JobServer', address: `127.0.0.1:${listening.port}`, pid: listening.pid },
    };
    process.stderr.write(
      `${JOBS} jobs per round, ${WARMUP} warm-up, best of ${RUNS}, worker concurrency ${CONCURRENCY}, 32-byte payloads\n`,
    );
    const results: Measurement[] = [];
    for (const lib of LIBRARIES.filter((l) => ONLY.includes(l))) {
      for (const inflight of INFLIGHT) results.push(await measure(lib, targets.gearmand, inflight));
    }
    if (ONLY.includes('gmr')) {
      for (const inflight of INFLIGHT) results.push(await measure('gmr', targets.jobServer, inflight));
    }
    const load1 = loadavg()[0] ?? 0;

    const find = (lib: Library, server: string, inflight: number): Measurement | undefined =>
      results.find((m) => m.lib === lib && m.server === server && m.inflight === inflight);
    const out: string[] = [];
    out.push(
      `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${gearmand.version}; ` +
        `${JOBS.toLocaleString('en-US')} jobs per round after ${WARMUP.toLocaleString('en-US')} warm-up, best of ${RUNS}, ` +
        `32-byte payloads, worker concurrency ${CONCURRENCY}, rounds capped at ${LIMIT_MS / 1000} s. ` +
        `1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end.`,
      '',
      `### Client + worker against gearmand (default -t)`,
      '',
      '| Library | In flight | jobs/s (best) | rounds | × abraxas | client CPU µs/job | worker CPU µs/job | gearmand CPU µs/job |',
      '|---|---:|---:|---|---:|---:|---:|---:|',
    );
    for (const lib of LIBRARIES) {
      for (const inflight of INFLIGHT) {
        const m = find(lib, 'gearmand', inflight);
        if (!m) continue;
        const [head, ...rest] = cells(m).split(' | ');
        const vsAbraxas = ratio(best(m), best(find('abraxas', 'gearmand', inflight)));
        out.push(`| ${lib} | ${inflight} | ${head} | ${rest[0]} | ${vsAbraxas} | ${rest.slice(1).join(' | ')} |`);
      }
    }
    out.push(
      '',
      '### gmr Client + Worker: JobServer vs gearmand',
      '',
      '| Server | In flight | jobs/s (best) | rounds | × gearmand | client CPU µs/job | worker CPU µs/job | server CPU µs/job |',
      '|---|---:|---:|---|---:|---:|---:|---:|',
    );
    for (const inflight of INFLIGHT) {
      for (const server of ['gearmand', 'JobServer']) {
        const m = find('gmr', server, inflight);
        if (!m) continue;
        const [head, ...rest] = cells(m).split(' | ');
        const vsGearmand = ratio(best(m), best(find('gmr', 'gearmand', inflight)));
        out.push(`| ${server} | ${inflight} | ${head} | ${rest[0]} | ${vsGearmand} | ${rest.slice(1).join(' | ')} |`);
      }
    }
    out.push('');
    for (const inflight of INFLIGHT) {
      const ours = best(find('gmr', 'gearmand', inflight));
      const theirs = best(find('abraxas', 'gearmand', inflight));
      const server = best(find('gmr', 'JobServer', inflight));
      const gd = ours;
      const clientTarget = ours !== undefined && theirs !== undefined ? (ours >= 3 * theirs ? 'met' : 'NOT met') : 'unknown';
      const serverTarget = server !== undefined && gd !== undefined ? (server >= gd ? 'met' : 'NOT met') : 'unknown';
      out.push(
        `- ${inflight} in flight: gmr client+worker ${ratio(ours, theirs)} abraxas (target ≥ 3×: ${clientTarget}); ` +
          `JobServer ${ratio(server, gd)} gearmand (target ≥ 1×: ${serverTarget}).`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await Promise.all([jobServer.stop(), gearmand.stop()]);
  }
}

await main();
