/**
 * One test suite, two servers: a real gearmand 1.1.20 and our JobServer, started the same way.
 */
import { JobServer } from '../../src/server/job-server.ts';
import { startGearmand } from './gearmand.ts';

export type TargetKind = 'gearmand' | 'JobServer';

export interface ServerTarget {
  kind: TargetKind;
  port: number;
  address: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** gearmand's --job-retries / JobServer's jobRetries (N = total attempts; 0 = unlimited). */
  jobRetries?: number;
}

export async function startTarget(kind: TargetKind, options: TargetOptions = {}): Promise<ServerTarget> {
  if (kind === 'gearmand') {
    const args = options.jobRetries ? ['--job-retries', String(options.jobRetries)] : [];
    const g = await startGearmand(args);
    return { kind, port: g.port, address: g.address, stop: () => g.stop() };
  }
  const server = await JobServer.listen({ port: 0, ...(options.jobRetries ? { jobRetries: options.jobRetries } : {}) });
  return { kind, port: server.port, address: server.address, stop: () => server.close() };
}

/** `H:<host>:<n>` → `H:*:<n>`: handles differ only in their host part. */
export function normaliseHandle(handle: string): string {
  return handle.replace(/^H:[^:]*:/, 'H:*:');
}
