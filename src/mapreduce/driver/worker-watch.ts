/**
 * With --servers: watches the job servers' admin status while a run goes. When no server has a
 * worker for the run's functions, the run is told at once (a log line) and fails after the
 * no-worker timeout with a message that says how to start one (exit 69 at the CLI), instead of
 * waiting forever for workers that died.
 */
import { AdminClient } from '../../client/admin-client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import { UnavailableError } from '../../errors.ts';

/** How long a run waits without any worker for its functions before it fails (ms). */
export const DEFAULT_NO_WORKER_TIMEOUT_MS = 60_000;
const CHECK_EVERY_MS = 2_000;

export interface WorkerWatchOptions {
  servers: string[];
  functions: string[];
  job: string;
  /** How a worker for this run is started, after `gmr worker --servers …` (default `--jobs <job>`). */
  workerFlags?: string;
  timeoutMs: number;
  onLog?: (line: string) => void;
  /** TLS for every server (tls://host:port entries are TLS anyway). */
  tls?: TlsOptions;
  /** When no worker serves the functions (the time it was first seen, Date.now()), and when one does again (undefined). */
  onChange?: (since: number | undefined) => void;
}

export interface WorkerWatch {
  /** Rejects with UnavailableError when no worker came back within the timeout. */
  failed: Promise<never>;
  stop(): void;
}

/** Workers for `fn` on any server that answers; servers that do not answer count as none. */
async function workersFor(servers: string[], functions: string[], tls: TlsOptions | undefined): Promise<number> {
  let total = 0;
  await Promise.all(
    servers.map(async (server) => {
      const admin = new AdminClient({ server, ...(tls ? { tls } : {}) });
      try {
        const status = await admin.status();
        for (const row of status) if (functions.includes(row.function)) total += row.workers;
      } catch {
        // unreachable: no workers there
      } finally {
        await admin.close().catch(() => {});
      }
    }),
  );
  return total;
}

export function watchWorkers(options: WorkerWatchOptions): WorkerWatch {
  let reject: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, r) => {
    reject = r;
  });
  failed.catch(() => {});
  let since: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const how = `start one: gmr worker --servers ${options.servers.join(',')} ${options.workerFlags ?? `--jobs ${options.job}`}`;
  const check = async (): Promise<void> => {
    const workers = await workersFor(options.servers, options.functions, options.tls);
    if (stopped) return;
    const now = Date.now();
    if (workers > 0) {
      if (since !== undefined) {
        options.onLog?.(`a worker serves ${options.functions.join(', ')} again; the run goes on`);
        options.onChange?.(undefined);
      }
      since = undefined;
    } else if (since === undefined) {
      since = now;
      options.onChange?.(since);
      options.onLog?.(`no worker serves ${options.functions.join(', ')} on ${options.servers.join(', ')}; the run fails in ${Math.round(options.timeoutMs / 1000)} s (--no-worker-timeout) unless one comes: ${how}`);
    } else if (now - since >= options.timeoutMs) {
      reject(new UnavailableError(`No worker served ${options.functions.join(', ')} on ${options.servers.join(', ')} for ${Math.round((now - since) / 1000)} s (--no-worker-timeout); ${how}`));
      return;
    }
    timer = setTimeout(() => void check(), CHECK_EVERY_MS);
    timer.unref();
  };
  timer = setTimeout(() => void check(), CHECK_EVERY_MS);
  timer.unref();
  return {
    failed,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
