/**
 * A run seen from the job servers alone (no run folder at hand): `show unique jobs` on each
 * server lists the run's tasks by their deterministic unique keys (`gmr:<run>[.<resume>]:<m|r>:<task>
 * [:<attempt>]`), and GET_STATUS_UNIQUE gives each one's state and WORK_STATUS numerator/denominator.
 * Finished tasks are forgotten by the servers: totals and outcomes need the run folder.
 */
import { AdminClient } from '../../client/admin-client.ts';
import { Client } from '../../client/client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import type { LiveTask } from './live-status.ts';

export interface ServerTasks {
  runId: string;
  servers: Array<{ address: string; up: boolean; error: string | null }>;
  /** The run's tasks the servers hold now (queued or running), by phase and index. */
  tasks: LiveTask[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Phase and index of a task unique key of `runId`, or undefined for any other key. */
export function parseTaskUnique(unique: string, runId: string): { phase: 'map' | 'reduce'; index: number } | undefined {
  const match = new RegExp(`^gmr:${escapeRegExp(runId)}(?:\\.\\d+)?:([mr]):(\\d+)(?::\\d+)?$`).exec(unique);
  if (!match) return undefined;
  return { phase: match[1] === 'm' ? 'map' : 'reduce', index: Number(match[2]) };
}

export async function serverTasks(runId: string, servers: string[], timeoutMs = 3000, tls?: TlsOptions): Promise<ServerTasks> {
  const seen: ServerTasks['servers'] = [];
  const uniques = new Set<string>();
  await Promise.all(
    servers.map(async (server, i) => {
      const admin = new AdminClient({ server, connectTimeoutMs: timeoutMs, timeoutMs, ...(tls ? { tls } : {}) });
      try {
        for (const unique of await admin.showUniqueJobs()) if (parseTaskUnique(unique, runId)) uniques.add(unique);
        seen[i] = { address: admin.address, up: true, error: null };
      } catch (error) {
        seen[i] = { address: admin.address, up: false, error: (error as Error).message };
      } finally {
        await admin.close().catch(() => {});
      }
    }),
  );
  const up = servers.filter((_, i) => seen[i]?.up);
  const tasks: LiveTask[] = [];
  if (uniques.size > 0 && up.length > 0) {
    const client = new Client({ servers, connectTimeoutMs: timeoutMs, ...(tls ? { tls } : {}) });
    try {
      for (const unique of [...uniques].sort()) {
        const where = parseTaskUnique(unique, runId);
        if (!where) continue;
        const reply = await client.getStatusUnique(unique);
        tasks.push({ ...where, unique, known: reply.known, running: reply.running, numerator: reply.numerator, denominator: reply.denominator });
      }
    } finally {
      await client.close().catch(() => {});
    }
  }
  tasks.sort((a, b) => (a.phase === b.phase ? a.index - b.index : a.phase === 'map' ? -1 : 1));
  return { runId, servers: seen, tasks };
}
