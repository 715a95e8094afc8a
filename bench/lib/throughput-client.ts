/**
 * Child process: one benchmark client that keeps exactly `inflight` foreground jobs in flight.
 *   node --import tsx bench/lib/throughput-client.ts <lib> <host:port> <fn> <inflight> <jobs> <warmup> <limitMs>
 * Runs `warmup` jobs, prints {"type":"ready"}; on a "gc" line it collects its heap (when started with
 * --expose-gc) and prints {"type":"gc"}; for every "go" line on stdin it runs `jobs` jobs
 * and prints {"type":"run", jobs, ms, cpuMs, loopIdleMs} (loopIdleMs: time the event loop waited for input; gcMs, gcMinor,
 * gcMajor: the garbage collector's pauses in the round). A round (or the warm-up) that passes `limitMs`
 * starts no more jobs, lets the ones in flight finish and reports how many it did, so a library
 * that stalls still gives a (flagged) rate in bounded time. Exits when stdin closes.
 * Every result is checked against its payload, so a library that drops or mixes up results fails.
 */
import { randomBytes } from 'node:crypto';
import { PerformanceObserver, constants } from 'node:perf_hooks';
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

/** Garbage collections seen so far: pauses on the main thread, by kind. */
const gc = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const detail: unknown = Reflect.get(entry, 'detail');
    const kind = typeof detail === 'object' && detail !== null ? Reflect.get(detail, 'kind') : undefined;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else gc.minor++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const say = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

try {
  const client = await connectClient(toLibrary(lib), address ?? '', fn ?? '', inflight);
  await drive(client, warmup);
  say({ type: 'ready' });
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line === 'gc') {
      // Between rounds (node --expose-gc): every round starts from a collected heap.
      globalThis.gc?.();
      say({ type: 'gc', collected: typeof globalThis.gc === 'function' });
      continue;
    }
    if (line !== 'go') continue;
    const elu0 = performance.eventLoopUtilization();
    const gc0 = { ...gc };
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const done = await drive(client, jobs);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    say({ type: 'run', jobs: done, ms, cpuMs: (cpu.user + cpu.system) / 1000, loopIdleMs: elu.idle, gcMs: gc.ms - gc0.ms, gcMinor: gc.minor - gc0.minor, gcMajor: gc.major - gc0.major });
  }
  await Promise.race([client.close(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
} catch (error) {
  say({ type: 'error', message: (error as Error).message });
  process.exit(1);
}
