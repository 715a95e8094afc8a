/**
 * bench/job-server-steady: one server's CPU per job round by round over a long run, to see its
 * warm-up and its steady state apart (a fresh JobServer process compiles its hot code in its first
 * 5,000-10,000 jobs). One gmr worker and one gmr client, as in bench/gearman-throughput.ts.
 *
 *   npx tsx bench/job-server-steady.ts [--server jobserver|gearmand] [--root DIR] [--jobs 20000]
 *                                      [--rounds 6] [--inflight 100] [--node-flags "--cpu-prof"]
 *
 * --root runs the JobServer from another checkout (its bench/lib/job-server-child.ts and src/),
 * with this checkout's client and worker, for before/after pairs of a server change. Per round it
 * prints jobs/s, server / client / worker CPU µs/job (server and worker from /proc/PID/stat,
 * 10 ms ticks), the server's read and write system calls per job (/proc/PID/io) and the load
 * average; last, one line with the median server CPU of round 3 onwards. Under load, compare
 * CPU per job in alternating pairs, not jobs/s.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { flag } from './lib/args.ts';
import { LineChild, ROOT, cpuMs, spawnTs, startGearmand } from './lib/processes.ts';

const JOBS = Number(flag('jobs', '20000'));
const ROUNDS = Number(flag('rounds', '6'));
const INFLIGHT = Number(flag('inflight', '100'));
const SERVER = flag('server', 'jobserver');
const SERVER_ROOT = flag('root', ROOT);
const NODE_FLAGS = flag('node-flags', '').split(' ').filter(Boolean);

/** [read, write] system calls so far, from /proc/PID/io. */
function syscalls(pid: number): [number, number] {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return [Number(/^syscr: (\d+)/m.exec(io)?.[1] ?? 0), Number(/^syscw: (\d+)/m.exec(io)?.[1] ?? 0)];
}

interface Target {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(): Promise<Target> {
  if (SERVER === 'gearmand') {
    const g = await startGearmand();
    return { address: g.address, pid: g.pid, stop: () => g.stop() };
  }
  if (SERVER !== 'jobserver') throw new Error(`--server must be jobserver or gearmand, received ${SERVER}`);
  const child = new LineChild(
    spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'bench/lib/job-server-child.ts'], { cwd: SERVER_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  process.once('exit', () => child.process.kill('SIGKILL'));
  const listening = await child.next<{ port: number; pid: number }>(15_000, 'the JobServer to listen');
  return { address: `127.0.0.1:${listening.port}`, pid: listening.pid, stop: () => child.stop(10_000) };
}

const target = await startServer();
const fn = `steady_${process.pid}`;
const worker = spawnTs('throughput-worker.ts', ['gmr', target.address, fn, '100']);
const client = spawnTs('throughput-client.ts', ['gmr', target.address, fn, String(INFLIGHT), String(JOBS), '500', '600000']);
try {
  await worker.next(15_000, 'the worker to connect');
  await client.next(60_000, "the client's warm-up");
  const serverUs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const server0 = cpuMs(target.pid);
    const worker0 = cpuMs(worker.pid);
    const [reads0, writes0] = syscalls(target.pid);
    client.send('go');
    const round = await client.next<{ jobs: number; ms: number; cpuMs: number }>(600_000, `round ${r + 1}`);
    const perJob = (ms: number): number => (ms * 1000) / round.jobs;
    const [reads1, writes1] = syscalls(target.pid);
    const us = perJob(cpuMs(target.pid) - server0);
    serverUs.push(us);
    process.stdout.write(
      `round ${r + 1}: ${Math.round(round.jobs / (round.ms / 1000))} jobs/s, CPU µs/job server ${us.toFixed(1)} client ${perJob(round.cpuMs).toFixed(1)} ` +
        `worker ${perJob(cpuMs(worker.pid) - worker0).toFixed(1)}; server reads ${((reads1 - reads0) / round.jobs).toFixed(3)} ` +
        `writes ${((writes1 - writes0) / round.jobs).toFixed(3)} per job; load ${(loadavg()[0] ?? 0).toFixed(2)}\n`,
    );
  }
  const steady = serverUs.slice(2).sort((a, b) => a - b);
  const median = steady.length === 0 ? Number.NaN : steady.length % 2 === 1 ? (steady[steady.length >> 1] as number) : ((steady[steady.length / 2 - 1] as number) + (steady[steady.length / 2] as number)) / 2;
  process.stdout.write(`${SERVER} (${SERVER_ROOT}), ${INFLIGHT} in flight: server CPU µs/job median of rounds 3-${ROUNDS} ${median.toFixed(1)}; every round ${serverUs.map((u) => u.toFixed(1)).join(' ')}\n`);
} finally {
  await Promise.all([client.stop(), worker.stop()]);
  await target.stop();
}
