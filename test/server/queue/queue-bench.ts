/**
 * Background jobs per second through a job server, stored and run: gmr server in memory and with
 * its libsqlite3 queue, gearmand 1.1.20 builtin and -q libsqlite3. One client submits N background
 * jobs (all in flight), then one gmr Worker (concurrency 8) runs them; each server is a process of
 * its own (gmr server from bin/gmr.js, so build dist/ first). Prints a line per server.
 *
 *   npx tsx test/server/queue/queue-bench.ts [jobs] [rounds]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Worker } from '../../../src/index.ts';

const jobs = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'gmr-queue-bench-'));

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function gearmand(args: string[]): Promise<{ address: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('/usr/sbin/gearmand', ['--port', String(port), '--listen', '127.0.0.1', '--log-file', 'none', '--threads', '1', ...args], { stdio: 'ignore' });
  for (;;) {
    const up = await new Promise<boolean>((resolve) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
    if (up) return { address: `127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** gmr server in its own process, as gearmand is. */
async function gmrServer(args: string[]): Promise<{ address: string; child: ChildProcess }> {
  const bin = new URL('../../../bin/gmr.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'server', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (;;) {
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1];
    if (port) return { address: `127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(address: string): Promise<[number, number]> {
  const client = new Client({ servers: [address] });
  let t = performance.now();
  await Promise.all(Array.from({ length: jobs }, (_, i) => client.submitBackground('bench', String(i), { unique: `b-${i}-${Math.random()}` })));
  const submit = (jobs * 1000) / (performance.now() - t);
  await client.close();
  t = performance.now();
  let ran = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker({ servers: [address], concurrency: 8 });
  worker.register('bench', () => {
    if (++ran === jobs) done();
    return '';
  });
  await worker.start();
  await all;
  const run = (jobs * 1000) / (performance.now() - t);
  await worker.close();
  return [submit, run];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = new Map<string, Array<[number, number]>>();
for (let r = 0; r < rounds; r++) {
  for (const name of ['gmr memory', 'gmr libsqlite3', 'gearmand builtin', 'gearmand libsqlite3']) {
    const file = join(dir, `${name.replace(' ', '-')}-${r}.db`);
    let stop: () => Promise<unknown>;
    let address: string;
    if (name.startsWith('gmr')) {
      const g = await gmrServer(name.endsWith('libsqlite3') ? ['-q', 'libsqlite3', `--libsqlite3-db=${file}`] : []);
      address = g.address;
      stop = async () => g.child.kill('SIGKILL');
    } else {
      const g = await gearmand(name.endsWith('libsqlite3') ? ['-q', 'libsqlite3', `--libsqlite3-db=${file}`] : []);
      address = g.address;
      stop = async () => g.child.kill('SIGKILL');
    }
    const list = results.get(name) ?? [];
    list.push(await measure(address));
    results.set(name, list);
    await stop();
  }
}
for (const [name, list] of results) {
  console.log(`${name.padEnd(20)} submit ${median(list.map((x) => x[0])).toFixed(0).padStart(6)} jobs/s   run ${median(list.map((x) => x[1])).toFixed(0).padStart(6)} jobs/s`);
}
rmSync(dir, { recursive: true, force: true });
