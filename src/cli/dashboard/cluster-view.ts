/**
 * What any Gearman cluster tells over the admin protocol, polled per job server (gearmand or
 * `gmr server`): up or down, version, functions with queued/running jobs and available workers,
 * and the worker connections (those that registered at least one function).
 */
import { AdminClient } from '../../client/admin-client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import type { FunctionStatus, WorkerInfo } from '../../protocol/admin-text.ts';

export interface ServerView {
  address: string;
  up: boolean;
  version: string | null;
  /** Why the server counts as down. */
  error: string | null;
  functions: FunctionStatus[];
  workers: WorkerInfo[];
}

export interface FunctionRow {
  function: string;
  queued: number;
  running: number;
  workers: number;
  /** Servers that know the function. */
  servers: string[];
}

export interface ClusterView {
  at: string;
  servers: ServerView[];
  functions: FunctionRow[];
}

/** One AdminClient per server, kept open between polls (it reconnects after a loss). */
export class ClusterWatcher {
  readonly #admins: AdminClient[];

  constructor(servers: string[], options: { timeoutMs?: number; tls?: TlsOptions } = {}) {
    const timeoutMs = options.timeoutMs ?? 3000;
    const tls = options.tls;
    this.#admins = servers.map((server) => new AdminClient({ server, connectTimeoutMs: timeoutMs, timeoutMs, ...(tls ? { tls } : {}) }));
  }

  async poll(): Promise<ClusterView> {
    const servers = await Promise.all(this.#admins.map((admin) => pollServer(admin)));
    return { at: new Date().toISOString(), servers, functions: mergeFunctions(servers) };
  }

  async close(): Promise<void> {
    await Promise.all(this.#admins.map((admin) => admin.close().catch(() => {})));
  }
}

async function pollServer(admin: AdminClient): Promise<ServerView> {
  try {
    const [version, functions, workers] = await Promise.all([admin.version(), admin.status(), admin.workers()]);
    return {
      address: admin.address,
      up: true,
      version,
      error: null,
      functions: [...functions].sort((a, b) => a.function.localeCompare(b.function)),
      workers: workers.filter((w) => w.functions.length > 0),
    };
  } catch (error) {
    return { address: admin.address, up: false, version: null, error: (error as Error).message, functions: [], workers: [] };
  }
}

/** The functions of every server, summed by name, sorted by name. */
export function mergeFunctions(servers: ServerView[]): FunctionRow[] {
  const rows = new Map<string, FunctionRow>();
  for (const server of servers) {
    for (const f of server.functions) {
      const row = rows.get(f.function) ?? { function: f.function, queued: 0, running: 0, workers: 0, servers: [] };
      row.queued += Math.max(0, f.total - f.running);
      row.running += f.running;
      row.workers += f.workers;
      row.servers.push(server.address);
      rows.set(f.function, row);
    }
  }
  return [...rows.values()].sort((a, b) => (a.function < b.function ? -1 : a.function > b.function ? 1 : 0));
}
