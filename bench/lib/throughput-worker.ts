/**
 * Child process: one benchmark worker that echoes payloads.
 *   node --import tsx bench/lib/throughput-worker.ts <gmr|abraxas|gearman> <host:port> <fn> <concurrency>
 * Prints {"type":"ready"} once connected; exits when its stdin closes (or after 10 minutes).
 */
import { startWorker, toLibrary } from './libraries.ts';

const [lib, address, fn, concurrency] = process.argv.slice(2);
const guard = setTimeout(() => process.exit(3), 10 * 60_000);
guard.unref();

try {
  const worker = await startWorker(toLibrary(lib), address ?? '', fn ?? '', Number(concurrency));
  process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void worker.close().finally(() => process.exit(0));
  });
} catch (error) {
  process.stdout.write(`${JSON.stringify({ type: 'error', message: (error as Error).message })}\n`);
  process.exit(1);
}
