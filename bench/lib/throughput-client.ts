/**
 * Child process: one benchmark client that keeps exactly `inflight` foreground jobs in flight.
 *   node --import tsx bench/lib/throughput-client.ts <lib> <host:port> <fn> <inflight> <jobs> <warmup> <limitMs>
 * Runs `warmup` jobs, prints {"type":"ready"}, then for every "go" line on stdin runs `jobs` jobs
 * and prints {"type":"run", jobs, ms, cpuMs}. A round (or the warm-up) that passes `limitMs`
 * starts no more jobs, lets the ones in flight finish and reports how many it did, so a library
 * that stalls still gives a (flagged) rate in bounded time. Exits when stdin closes.
 * Every result is checked against its payload, so a library that drops or mixes up results fails.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { connectClient, toLibrary, type BenchClient } from './libraries.ts';

const [lib, address, fn, inflightArg, jobsArg, warmupArg, limitArg] = process.argv.slice(2);
const limitMs = Number(limitArg);
const inflight = Number(inflightArg);
const jobs = Number(jobsArg);
const warmup = Number(warmupArg);
const PAYLOAD_BYTES = 32;
const guard = setTimeout(() => process.exit(3), 10 * 60_000);
guard.unref();

/**
 * Submits `total` jobs, `inflight` at a time, until `limitMs` has passed; resolves with the number
 * of jobs done once every submitted result came back intact.
 */
function drive(client: BenchClient, total: number): Promise<number> {
  const deadline = Date.now() + limitMs;
  const payloads = Array.from({ length: Math.min(inflight, total) }, () => randomBytes(PAYLOAD_BYTES));
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    let failed = false;
    const next = (slot: number): void => {
      if (failed) return;
      if (started >= total || Date.now() > deadline) {
        if (finished === started) resolve(finished);
        return;
      }
      started++;
      const payload = payloads[slot] as Buffer;
      client.submit(payload, (error, result) => {
        if (failed) return;
        if (error || !result || !payload.equals(result)) {
          failed = true;
          return reject(error ?? new Error(`wrong result: ${result?.toString('hex') ?? 'none'}`));
        }
        finished++;
        next(slot);
      });
    };
    for (let slot = 0; slot < payloads.length; slot++) next(slot);
  });
}

const say = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

try {
  const client = await connectClient(toLibrary(lib), address ?? '', fn ?? '', inflight);
  await drive(client, warmup);
  say({ type: 'ready' });
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line !== 'go') continue;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const done = await drive(client, jobs);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    say({ type: 'run', jobs: done, ms, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  await Promise.race([client.close(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
} catch (error) {
  say({ type: 'error', message: (error as Error).message });
  process.exit(1);
}
