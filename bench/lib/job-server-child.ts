/**
 * Child process: our JobServer alone in a Node process, so its CPU and RSS can be read from /proc.
 *   node [--expose-gc] --import tsx bench/lib/job-server-child.ts
 * Prints {"type":"listening", port, pid}. On a "gc" line it runs the garbage collector (when
 * started with --expose-gc) and prints {"type":"gc"}. Exits when its stdin closes.
 */
import { JobServer } from '../../src/server/job-server.ts';

const say = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const guard = setTimeout(() => process.exit(3), 10 * 60_000);
guard.unref();

const server = await JobServer.listen({ port: 0 });
say({ type: 'listening', port: server.port, pid: process.pid });
process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line === 'gc') {
      globalThis.gc?.();
      say({ type: 'gc', collected: typeof globalThis.gc === 'function' });
    }
  }
});
process.stdin.once('end', () => {
  // close() waits up to 2 s for peers; do not let a slow peer keep us alive.
  setTimeout(() => process.exit(0), 2500).unref();
  void server.close().finally(() => process.exit(0));
});
