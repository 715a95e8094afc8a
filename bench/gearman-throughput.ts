/**
 * bench/gearman-throughput: foreground jobs per second, small payloads, many jobs in flight, in one
 * run against one gearmand (default `-t`, started here on a free loopback port), for
 *   gmr      our Client + our Worker
 *   abraxas  abraxas Client.connect + registerWorker / submitJob
 *   gearman  mreinstein/node-gearman, raw packets (see bench/lib/libraries.ts), as shipped and
 *            with TCP_NODELAY forced on (`gearman-nodelay`, a diagnostic: the package never sets it)
 * and then our Client + Worker against gearmand and our JobServer (run in its own process, as
 * gearmand is) in alternating rounds, A B A B …, so that a change in the machine's load hits both.
 *
 *   npx tsx bench/gearman-throughput.ts [--jobs 10000] [--warmup 1000] [--runs 3] [--pairs 7]
 *                                       [--server-warmup 20000] [--inflight 100,1000] [--concurrency 100]
 *                                       [--limit-s 15] [--only gmr,abraxas,...] [--cpu-prof DIR]
 *
 * For every configuration the worker and the client run in their own processes (one connection
 * each), the client does a warm-up, then `runs` timed rounds of `jobs` jobs; tables give the
 * median and the min–max of the rounds. The server comparison keeps a worker and a client warm on
 * each server and runs `pairs` pairs of rounds, alternating which server goes first; it reports
 * each server's median and min–max, the median of the per-pair ratios, and the load average.
 * Before the pairs, each server runs `--server-warmup` untimed jobs (rounds of `jobs`), reported on
 * their own: a job server is a long-running process, and a new JobServer process spends its first
 * 5,000-10,000 jobs compiling its hot code (V8: 30-50 server CPU µs/job against 10-15 afterwards),
 * a cost paid once per process, not per job. Both servers get the same warm-up, the same client,
 * worker and job counts, so the pairs compare the two in steady state.
 * CPU per job is read from /proc for the worker and server and from process.cpuUsage() in the
 * client, to show which process is the bottleneck on a small machine; a last table gives the
 * client's main thread per job (CPU, garbage-collector pauses, event-loop busy share), which is
 * what bounds jobs/s on 2 cores with either server. A round still running after
 * --limit-s stops submitting and reports the rate of the jobs it did (flagged in the table), which
 * keeps the whole benchmark to a few minutes even when a library stalls. --cpu-prof DIR runs our
 * client, worker and JobServer under `node --cpu-prof` (slower; for finding hot spots, not figures).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { LIBRARIES, type Library } from './lib/libraries.ts';
import { cpuMs, mainThreadCpuMs, spawnTs, startGearmand, type LineChild } from './lib/processes.ts';
import { flag } from './lib/args.ts';

const JOBS = Number(flag('jobs', '10000'));
const WARMUP = Number(flag('warmup', '1000'));
const RUNS = Number(flag('runs', '3'));
const PAIRS = Number(flag('pairs', '7'));
/** Untimed jobs each server runs before the pairs (rounded up to whole rounds of JOBS). */
const SERVER_WARMUP = Number(flag('server-warmup', '20000'));
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
/** The median round (the tables' headline figure). */
interface Side {
  worker: LineChild;
  client: LineChild;
  target: Target;
}

async function startSide(target: Target, inflight: number): Promise<Side> {
  const fn = `bench_alt_${inflight}_${process.pid}_${++fnCounter}`;
  const worker = spawnTs('throughput-worker.ts', ['gmr', target.address, fn, String(CONCURRENCY)], ourFlags('gmr'));
  await worker.next(15_000, `the gmr worker on ${target.name} to connect`);
  const client = spawnTs('throughput-client.ts', ['gmr', target.address, fn, String(inflight), String(JOBS), String(WARMUP), String(LIMIT_MS)], ourFlags('gmr'));
  await client.next(TIMEOUT_MS, `the gmr client's warm-up on ${target.name}`);
  return { worker, client, target };
}

interface Round {
  rate: number;
  serverUs: number;
  clientUs: number;
  workerUs: number;
  /** The client's main thread: its CPU, its garbage collector's pauses, and its wall time per job. */
  clientMainUs: number;
  clientGcUs: number;
  wallUs: number;
  /** Share of the round the client's event loop was busy (not waiting for input). */
  clientBusy: number;
}

async function round(side: Side): Promise<Round> {
  const server0 = cpuMs(side.target.pid);
  const worker0 = cpuMs(side.worker.pid);
  const main0 = mainThreadCpuMs(side.client.pid);
  side.client.send('go');
  const r = await side.client.next<{ jobs: number; ms: number; cpuMs: number; loopIdleMs: number; gcMs: number }>(TIMEOUT_MS, `${JOBS} gmr jobs on ${side.target.name}`);
  const perJob = (ms: number): number => (ms * 1000) / r.jobs;
  return {
    rate: r.jobs / (r.ms / 1000),
    serverUs: perJob(cpuMs(side.target.pid) - server0),
    clientUs: perJob(r.cpuMs),
    workerUs: perJob(cpuMs(side.worker.pid) - worker0),
    clientMainUs: perJob(mainThreadCpuMs(side.client.pid) - main0),
    clientGcUs: perJob(r.gcMs),
    wallUs: perJob(r.ms),
    clientBusy: 1 - r.loopIdleMs / r.ms,
  };
}

interface Alternating {
  inflight: number;
  rates: Record<string, number[]>;
  serverUs: Record<string, number[]>;
  clientUs: Record<string, number[]>;
  workerUs: Record<string, number[]>;
  /** Per server, every round: the client's main thread (see Round). */
  rounds: Record<string, Round[]>;
  /** Each server's untimed warm-up rounds before the pairs (a Node server compiles its hot code in them). */
  first: Record<string, Round[]>;
  /** JobServer / gearmand per pair. */
  ratios: number[];
  loads: number[];
  error?: string;
}

/** gmr Client + Worker on gearmand (A) and JobServer (B), rounds A B, B A, A B, …. */
async function alternate(a: Target, b: Target, inflight: number): Promise<Alternating> {
  const perServer = (): Record<string, number[]> => ({ [a.name]: [], [b.name]: [] });
  const result: Alternating = {
    inflight,
    rates: perServer(),
    serverUs: perServer(),
    clientUs: perServer(),
    workerUs: perServer(),
    rounds: { [a.name]: [], [b.name]: [] },
    first: {},
    ratios: [],
    loads: [],
  };
  const sides: Side[] = [];
  try {
    sides.push(await startSide(a, inflight));
    sides.push(await startSide(b, inflight));
    // Untimed rounds on each server first: the client's warm-up warms the client and the worker,
    // but a fresh JobServer process is still compiling its hot code (V8) for its first 5,000-10,000
    // jobs, a one-off cost a long-running server does not pay per job. Both get the same; reported.
    const warmupRounds = Math.max(1, Math.ceil(SERVER_WARMUP / JOBS));
    for (const side of sides) {
      const rounds: Round[] = [];
      for (let r = 0; r < warmupRounds; r++) rounds.push(await round(side));
      result.first[side.target.name] = rounds;
    }
    for (let pair = 0; pair < PAIRS; pair++) {
      const order = pair % 2 === 0 ? [0, 1] : [1, 0];
      const got: number[] = [0, 0];
      for (const i of order) {
        const side = sides[i] as Side;
        const r = await round(side);
        got[i] = r.rate;
        result.rates[side.target.name]?.push(r.rate);
        result.serverUs[side.target.name]?.push(r.serverUs);
        result.clientUs[side.target.name]?.push(r.clientUs);
        result.workerUs[side.target.name]?.push(r.workerUs);
        result.rounds[side.target.name]?.push(r);
      }
      result.ratios.push((got[1] as number) / (got[0] as number));
      result.loads.push(loadavg()[0] ?? 0);
      process.stderr.write(`  pair ${pair + 1}, ${inflight} in flight: ${a.name} ${Math.round(got[0] as number)}, ${b.name} ${Math.round(got[1] as number)} jobs/s\n`);
    }
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    for (const side of sides.reverse()) await Promise.all([side.client.stop(), side.worker.stop()]);
  }
  return result;
}

const best = (m: Measurement | undefined): number | undefined =>
  m && !m.error && m.rates.length > 0 ? median(m.rates) : undefined;
const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`;

function cells(m: Measurement): string {
  if (m.error) return `could not run: ${m.error.replace(/\|/g, '/')} | – | – | – | –`;
  const cut = m.truncated.length > 0 ? ` (stopped at ${LIMIT_MS / 1000} s: ${m.truncated.join(', ')} jobs)` : '';
  const rounds = `${fmt(Math.min(...m.rates))}–${fmt(Math.max(...m.rates))} (${m.rates.map((r) => fmt(r)).join(' / ')})${cut}`;
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
      `${JOBS} jobs per round, ${WARMUP} warm-up, median of ${RUNS}, worker concurrency ${CONCURRENCY}, 32-byte payloads\n`,
    );
    const results: Measurement[] = [];
    for (const lib of LIBRARIES.filter((l) => ONLY.includes(l))) {
      for (const inflight of INFLIGHT) results.push(await measure(lib, targets.gearmand, inflight));
    }
    const alternating: Alternating[] = [];
    if (ONLY.includes('gmr')) {
      for (const inflight of INFLIGHT) alternating.push(await alternate(targets.gearmand, targets.jobServer, inflight));
    }
    const load1 = loadavg()[0] ?? 0;

    const find = (lib: Library, server: string, inflight: number): Measurement | undefined =>
      results.find((m) => m.lib === lib && m.server === server && m.inflight === inflight);
    const out: string[] = [];
    out.push(
      `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${gearmand.version}; ` +
        `${JOBS.toLocaleString('en-US')} jobs per round after ${WARMUP.toLocaleString('en-US')} warm-up (and ${SERVER_WARMUP.toLocaleString('en-US')} untimed jobs per server before the pairs), median of ${RUNS} rounds, ` +
        `32-byte payloads, worker concurrency ${CONCURRENCY}, rounds capped at ${LIMIT_MS / 1000} s. ` +
        `1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end.`,
      '',
      `### Client + worker against gearmand (default -t)`,
      '',
      '| Library | In flight | jobs/s (median) | min–max (rounds) | × abraxas | client CPU µs/job | worker CPU µs/job | gearmand CPU µs/job |',
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
      `### gmr Client + Worker: JobServer vs gearmand, ${PAIRS} alternating pairs of rounds`,
      '',
      '| In flight | gearmand jobs/s median (min–max) | JobServer jobs/s median (min–max) | JobServer / gearmand, median of pairs (min–max) | server CPU µs/job gearmand / JobServer (medians) | client CPU µs/job | worker CPU µs/job | load average during |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const alt of alternating) {
      if (alt.error) {
        out.push(`| ${alt.inflight} | could not run: ${alt.error.replace(/\|/g, '/')} | | | | |`);
        continue;
      }
      const span = (xs: number[] | undefined, digits = 0): string =>
        xs === undefined || xs.length === 0 ? '–' : `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
      const g = alt.rates['gearmand'];
      const j = alt.rates['JobServer'];
      const both = (us: Record<string, number[]>): string => `${fmt(median(us['gearmand'] ?? [0]), 1)} / ${fmt(median(us['JobServer'] ?? [0]), 1)}`;
      out.push(
        `| ${alt.inflight} | ${span(g)} | ${span(j)} | ${span(alt.ratios, 2)}× | ${both(alt.serverUs)} | ${both(alt.clientUs)} | ${both(alt.workerUs)} | ` +
          `${fmt(Math.min(...alt.loads), 2)}–${fmt(Math.max(...alt.loads), 2)} |`,
      );
    }
    out.push(
      '',
      'What bounds jobs/s: the gmr client (the same code on both servers). Its main thread, per job (medians of the rounds above; main-thread CPU from /proc, 10 ms ticks): wall time, CPU, garbage-collector pauses, and the share of the round its event loop was busy (not waiting for input); gearmand / JobServer.',
      '',
      '| In flight | wall µs/job | client main thread CPU µs/job | client GC pauses µs/job | client event loop busy |',
      '|---:|---:|---:|---:|---:|',
    );
    for (const alt of alternating) {
      if (alt.error) continue;
      const both = (pick: (r: Round) => number, digits: number, scale = 1): string =>
        ['gearmand', 'JobServer'].map((name) => fmt(median((alt.rounds[name] ?? []).map(pick)) * scale, digits)).join(' / ');
      out.push(
        `| ${alt.inflight} | ${both((r) => r.wallUs, 1)} | ${both((r) => r.clientMainUs, 1)} | ${both((r) => r.clientGcUs, 1)} | ${both((r) => r.clientBusy, 1, 100)} % |`,
      );
    }
    out.push('', `CPU columns are gearmand / JobServer. Each server's untimed warm-up before the pairs (${Math.max(1, Math.ceil(SERVER_WARMUP / JOBS))} rounds of ${JOBS.toLocaleString('en-US')} jobs; not in the figures above), server CPU µs/job per round:`, '');
    for (const alt of alternating) {
      const line = Object.entries(alt.first).map(
        ([name, rs]) => `${name} ${rs.map((r) => fmt(r.serverUs, 1)).join(', ')} (last round ${fmt(rs.at(-1)?.rate)} jobs/s)`,
      );
      if (line.length > 0) out.push(`- ${alt.inflight} in flight: ${line.join('; ')}`);
    }
    out.push('');
    for (const inflight of INFLIGHT) {
      const ours = best(find('gmr', 'gearmand', inflight));
      const theirs = best(find('abraxas', 'gearmand', inflight));
      const alt = alternating.find((x) => x.inflight === inflight);
      const pairRatio = alt && !alt.error && alt.ratios.length > 0 ? median(alt.ratios) : undefined;
      const clientTarget = ours !== undefined && theirs !== undefined ? (ours >= 3 * theirs ? 'met' : 'NOT met') : 'unknown';
      const serverTarget = pairRatio !== undefined ? (pairRatio >= 1 ? 'met' : 'NOT met') : 'unknown';
      out.push(
        `- ${inflight} in flight: gmr client+worker ${ratio(ours, theirs)} abraxas (medians; target ≥ 3×: ${clientTarget}); ` +
          `JobServer ${pairRatio === undefined ? '–' : `${pairRatio.toFixed(2)}×`} gearmand (median of paired rounds; target ≥ 1×: ${serverTarget}).`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await Promise.all([jobServer.stop(), gearmand.stop()]);
  }
}

await main();
