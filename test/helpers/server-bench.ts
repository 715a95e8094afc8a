/**
 * Foreground throughput, gearmand vs `gmr server`, each in its own process, driven by the same raw
 * load generator: C clients with 100 SUBMIT_JOBs in flight each, W workers in the usual
 * GRAB_JOB → JOB_ASSIGN → WORK_COMPLETE loop (PRE_SLEEP/NOOP when idle).
 *
 *   npx tsx test/helpers/server-bench.ts [jobs=60000] [clients=2] [workers=2]
 *
 * Not a test: it prints jobs/s, which depend on the machine.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { PacketParser, encodePacket, type Packet } from '../../src/protocol/index.ts';
import { startGearmand } from './gearmand.ts';
import { freePort, waitForPort } from './gearmand.ts';
import { spawnGmr } from './gmr-cli.ts';

const JOBS = Number(process.argv[2] ?? 60_000);
const CLIENTS = Number(process.argv[3] ?? 2);
const WORKERS = Number(process.argv[4] ?? 2);
const IN_FLIGHT = 100;
const PAYLOAD = Buffer.alloc(32, 0x61);

function connect(port: number, onPacket: (p: Packet) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const parser = new PacketParser({ onPacket });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(port: number, pid: number): Promise<{ rate: number; cpuMicros: number }> {
  const before = cpuSeconds(pid);
  const rate = await run(port, 'bench');
  const jobs = Math.floor(JOBS / CLIENTS) * CLIENTS;
  return { rate, cpuMicros: ((cpuSeconds(pid) - before) / jobs) * 1e6 };
}

async function run(port: number, fn: string): Promise<number> {
  const grab = encodePacket({ type: 'GRAB_JOB' }, 'REQ');
  const preSleep = encodePacket({ type: 'PRE_SLEEP' }, 'REQ');
  const workers: net.Socket[] = [];
  for (let i = 0; i < WORKERS; i++) {
    let socket: net.Socket | undefined;
    socket = await connect(port, (p) => {
      const s = socket as net.Socket;
      if (p.type === 'JOB_ASSIGN') {
        s.cork();
        s.write(encodePacket({ type: 'WORK_COMPLETE', handle: p.handle, data: p.data }, 'REQ'));
        s.write(grab);
        s.uncork();
      } else if (p.type === 'NO_JOB') s.write(preSleep);
      else if (p.type === 'NOOP') s.write(grab);
    });
    socket.write(encodePacket({ type: 'CAN_DO', fn }, 'REQ'));
    socket.write(grab);
    workers.push(socket);
  }
  const submit = encodePacket({ type: 'SUBMIT_JOB', fn, unique: '', data: PAYLOAD }, 'REQ');
  const perClient = Math.floor(JOBS / CLIENTS);
  const started = process.hrtime.bigint();
  const clients: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      let sent = 0;
      let done = 0;
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => (finish = resolve));
      let socket: net.Socket | undefined;
      socket = await connect(port, (p) => {
        if (p.type !== 'WORK_COMPLETE') return;
        done++;
        if (sent < perClient) {
          sent++;
          (socket as net.Socket).write(submit);
        }
        if (done === perClient) finish();
      });
      clients.push(socket);
      for (; sent < Math.min(IN_FLIGHT, perClient); sent++) socket.write(submit);
      await finished;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const s of [...workers, ...clients]) s.destroy();
  return (perClient * CLIENTS) / seconds;
}

const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
type Result = { rate: number; cpuMicros: number };
const results: Record<'gearmand' | 'gmr', Result[]> = { gearmand: [], gmr: [] };
for (let round = 0; round < ROUNDS; round++) {
  const gearmand = await startGearmand();
  results.gearmand.push(await measure(gearmand.port, gearmand.process.pid as number));
  await gearmand.stop();
  const port = await freePort();
  const gmr = spawnGmr(['server', '--port', String(port)]);
  await waitForPort(port);
  results.gmr.push(await measure(port, gmr.pid as number));
  const exited = new Promise((resolve) => gmr.once('exit', resolve));
  gmr.kill('SIGTERM');
  await exited;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const line = (rs: Result[]): string =>
  `${Math.round(median(rs.map((r) => r.rate)))} jobs/s, ${median(rs.map((r) => r.cpuMicros)).toFixed(1)} CPU µs/job  (${rs.map((r) => Math.round(r.rate)).join(', ')})`;
console.log(`${JOBS} foreground jobs, ${CLIENTS} client(s) × ${IN_FLIGHT} in flight, ${WORKERS} worker(s), median of ${ROUNDS}`);
console.log(`gearmand 1.1.20 (-t 1): ${line(results.gearmand)}`);
console.log(`gmr server:            ${line(results.gmr)}`);
