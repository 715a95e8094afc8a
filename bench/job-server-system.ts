/**
 * bench/job-server-system: what the whole client + worker + server system costs per job on
 * gearmand and on our JobServer, in alternating rounds: each process's CPU (all threads, and the
 * main thread alone), read and write system calls, bytes per read, context switches (the main
 * thread's waits and preemptions apart), the client's garbage-collector pauses and event-loop
 * idle time, and the machine's idle CPU, per job (from /proc), to find where one server makes the
 * others pay more than the other server does.
 *
 *   npx tsx bench/job-server-system.ts [--jobs 20000] [--pairs 6] [--inflight 1000] [--warmup-rounds 1] [--gc]
 *
 * Same gmr client and worker on both (bench/lib/throughput-*.ts), rounds A B / B A; --gc has the
 * client and the worker (not the servers) collect their heaps before every round. Prints one line
 * per round and the medians per server. CPU is from /proc (10 ms ticks), so a round of 20,000 jobs
 * is ±0.5 µs/job per process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { flag } from './lib/args.ts';
import { cpuMs, spawnTs, startGearmand, type LineChild } from './lib/processes.ts';

const JOBS = Number(flag('jobs', '20000'));
const PAIRS = Number(flag('pairs', '6'));
const INFLIGHT = Number(flag('inflight', '1000'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '1'));
/** --gc: the client and the worker collect their heaps before every round (same on both sides). */
const GC = process.argv.includes('--gc');

interface Counters {
  cpu: number;
  /** The main thread's CPU ms (the rest is GC and libuv threads). */
  mainCpu: number;
  /** The main thread's voluntary (it blocked) and involuntary (it was preempted) switches. */
  mainWaits: number;
  mainPreempted: number;
  reads: number;
  writes: number;
  readBytes: number;
  switches: number;
}

/** Whole-process counters: CPU ms, read/write syscalls and bytes read, context switches of all threads. */
function counters(pid: number): Counters {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
  let switches = 0;
  let mainWaits = 0;
  let mainPreempted = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const preempted = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    switches += voluntary + preempted;
    if (task === String(pid)) {
      mainWaits = voluntary;
      mainPreempted = preempted;
    }
  }
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const mainCpu = (Number(fields[11]) + Number(fields[12])) * 10;
  return { cpu: cpuMs(pid), mainCpu, mainWaits, mainPreempted, reads: field('syscr'), writes: field('syscw'), readBytes: field('rchar'), switches };
}

/** Idle CPU ms of the whole machine (all cores) so far, from /proc/stat. */
function idleMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/) ?? [];
  return (Number(cpu[4] ?? 0) + Number(cpu[5] ?? 0)) * 10;
}

interface Side {
  name: string;
  serverPid: number;
  worker: LineChild;
  client: LineChild;
}

type Row = Record<string, number>;

async function round(side: Side): Promise<Row> {
  const pids = { server: side.serverPid, worker: side.worker.pid, client: side.client.pid };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, counters(pid)]));
  if (GC) {
    side.client.send('gc');
    side.worker.send('gc');
    await side.client.next(60_000, 'the client to collect');
    await side.worker.next(60_000, 'the worker to collect');
  }
  const idle0 = idleMs();
  side.client.send('go');
  const r = await side.client.next<{ jobs: number; ms: number; cpuMs: number; loopIdleMs: number; gcMs: number; gcMinor: number; gcMajor: number }>(600_000, `a round on ${side.name}`);
  const row: Row = { jobsPerS: r.jobs / (r.ms / 1000), wallUs: (r.ms * 1000) / r.jobs, idleUs: ((idleMs() - idle0) * 1000) / r.jobs, clientLoopIdleUs: (r.loopIdleMs * 1000) / r.jobs, clientGcUs: (r.gcMs * 1000) / r.jobs, clientGcMinor: r.gcMinor, clientGcMajor: r.gcMajor };
  for (const [k, pid] of Object.entries(pids)) {
    const a = before[k] as Counters;
    const b = counters(pid);
    row[`${k}Cpu`] = ((b.cpu - a.cpu) * 1000) / r.jobs;
    row[`${k}Main`] = ((b.mainCpu - a.mainCpu) * 1000) / r.jobs;
    row[`${k}Reads`] = (b.reads - a.reads) / r.jobs;
    row[`${k}Writes`] = (b.writes - a.writes) / r.jobs;
    row[`${k}BytesPerRead`] = (b.readBytes - a.readBytes) / Math.max(1, b.reads - a.reads);
    row[`${k}Switches`] = (b.switches - a.switches) / r.jobs;
    row[`${k}MainWaits`] = (b.mainWaits - a.mainWaits) / r.jobs;
    row[`${k}MainPreempted`] = (b.mainPreempted - a.mainPreempted) / r.jobs;
  }
  return row;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const show = (row: Row): string =>
  Object.entries(row)
    .map(([k, v]) => `${k} ${v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 3)}`)
    .join(', ');

const gearmand = await startGearmand();
const jobServer = spawnTs('job-server-child.ts', []);
const sides: Side[] = [];
try {
  const listening = await jobServer.next<{ port: number; pid: number }>(15_000, 'the JobServer to listen');
  const targets = [
    { name: 'gearmand', address: gearmand.address, pid: gearmand.pid },
    { name: 'JobServer', address: `127.0.0.1:${listening.port}`, pid: listening.pid },
  ];
  for (const t of targets) {
    const fn = `system_${process.pid}_${t.name}`;
    const worker = spawnTs('throughput-worker.ts', ['gmr', t.address, fn, '100'], GC ? ['--expose-gc'] : []);
    await worker.next(15_000, 'the worker to connect');
    const client = spawnTs('throughput-client.ts', ['gmr', t.address, fn, String(INFLIGHT), String(JOBS), '500', '600000'], GC ? ['--expose-gc'] : []);
    await client.next(60_000, "the client's warm-up");
    sides.push({ name: t.name, serverPid: t.pid, worker, client });
    process.stdout.write(`${t.name}: server pid ${t.pid}, worker pid ${worker.pid}, client pid ${client.pid}\n`);
  }
  for (const side of sides) for (let i = 0; i < WARMUP_ROUNDS; i++) await round(side);
  const rows: Record<string, Row[]> = { gearmand: [], JobServer: [] };
  const ratios: number[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? sides : [...sides].reverse();
    const got: Record<string, Row> = {};
    for (const side of order) {
      const row = await round(side);
      got[side.name] = row;
      rows[side.name]?.push(row);
      process.stdout.write(`${side.name}: ${show(row)}\n`);
    }
    ratios.push((got['JobServer']?.jobsPerS ?? 0) / (got['gearmand']?.jobsPerS ?? 1));
    process.stdout.write(`pair ${pair + 1}: JobServer / gearmand ${ratios.at(-1)?.toFixed(3)}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  }
  for (const [name, list] of Object.entries(rows)) {
    const keys = Object.keys(list[0] ?? {});
    const med: Row = Object.fromEntries(keys.map((k) => [k, median(list.map((r) => r[k] ?? 0))]));
    process.stdout.write(`MEDIAN ${name}: ${show(med)}\n`);
  }
  process.stdout.write(`MEDIAN ratio ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}), ${INFLIGHT} in flight\n`);
} finally {
  for (const side of sides) await Promise.all([side.client.stop(), side.worker.stop()]);
  await Promise.all([jobServer.stop(), gearmand.stop()]);
}
