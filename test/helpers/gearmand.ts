/**
 * Starts a real gearmand (Debian package gearman-job-server) on a free loopback port for a test,
 * and stops it. The process is a child of the test and is killed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export const GEARMAND_PATH = ['/usr/sbin/gearmand', '/usr/local/sbin/gearmand'].find((p) => existsSync(p));

export interface GearmandHandle {
  host: string;
  port: number;
  /** `host:port`, for --servers lists. */
  address: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 2 s; resolves when the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** Kills at once with SIGKILL (a server that dies). */
  kill(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startGearmand(extraArgs: string[] = [], port?: number): Promise<GearmandHandle> {
  if (!GEARMAND_PATH) {
    throw new Error('gearmand is not installed: apt-get install -y gearman-job-server (.ci/run does this)');
  }
  const chosen = port ?? (await freePort());
  const child = spawn(
    GEARMAND_PATH,
    ['--port', String(chosen), '--listen', '127.0.0.1', '--log-file', 'none', '--threads', '1', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  try {
    await Promise.race([
      waitForPort(chosen),
      exited.then(() => {
        throw new Error(`gearmand exited at start: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  return {
    host: '127.0.0.1',
    port: chosen,
    address: `127.0.0.1:${chosen}`,
    process: child,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
  };
}

/**
 * One real gearmand for a whole test file: started in beforeAll, stopped in afterAll. The returned
 * object is filled in when the server is up, so tests read `gearmand.address` as usual.
 */
export function useGearmand(extraArgs: string[] = []): GearmandHandle {
  const shared = {} as GearmandHandle;
  beforeAll(async () => {
    Object.assign(shared, await startGearmand(extraArgs));
  });
  afterAll(async () => {
    await shared.stop?.();
  });
  return shared;
}
