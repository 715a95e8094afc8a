/**
 * Child process: one benchmark worker that echoes payloads.
 *   node --import tsx bench/lib/throughput-worker.ts <gmr|abraxas|gearman> <host:port> <fn> <concurrency>
 * Prints {"type":"ready"} once connected; on a "gc" line it collects its heap (when started with
 * --expose-gc) and prints {"type":"gc"}; exits when its stdin closes (or after 10 minutes).
 */
import { startWorker, toLibrary } from './libraries.ts';

const [lib, address, fn, concurrency] = process.argv.slice(2);
const guard = setTimeout(() => process.exit(3), 10 * 60_000);
guard.unref();

try {
  const worker = await startWorker(toLibrary(lib), address ?? '', fn ?? '', Number(concurrency));
  process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
  // A "gc" line (node --expose-gc): collect the heap between rounds, then say so.
  process.stdin.setEncoding('utf8');
  let pending = '';
  process.stdin.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line !== 'gc') continue;
      globalThis.gc?.();
      process.stdout.write(`${JSON.stringify({ type: 'gc', collected: typeof globalThis.gc === 'function' })}\n`);
    }
  });
  process.stdin.once('end', () => {
    void worker.close().finally(() => process.exit(0));
  });
} catch (error) {
  process.stdout.write(`${JSON.stringify({ type: 'error', message: (error as Error).message })}\n`);
  process.exit(1);
}
