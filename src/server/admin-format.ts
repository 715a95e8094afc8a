/**
 * The list replies of gearmand's admin text protocol, byte for byte (1.1.20, reference §2): rows end
 * in `\n` and the list in a line holding just `.`. gearmand prints hash-bucket order; we print
 * creation order.
 */
import type { JobBroker } from './job-broker.ts';
import type { ServerConnection } from './server-connection.ts';

/** `FUNC\tTOTAL\tRUNNING\tWORKERS`; TOTAL is queued (epoch jobs included) plus running. */
export function formatStatus(broker: JobBroker): string {
  let out = '';
  for (const fn of broker.functions.values()) out += `${fn.name}\t${fn.total}\t${fn.running}\t${fn.workerCount}\n`;
  return `${out}.\n`;
}

/** `FUNC\tHIGH\tNORMAL\tLOW\tWORKERS`, queued jobs only. */
export function formatPriorityStatus(broker: JobBroker): string {
  let out = '';
  for (const fn of broker.functions.values()) {
    const [high, normal, low] = fn.queues;
    out += `${fn.name}\t${high.length}\t${normal.length + fn.scheduled}\t${low.length}\t${fn.workerCount}\n`;
  }
  return `${out}.\n`;
}

/**
 * `FD IP CLIENT_ID : fn fn`: every connection, clients and admin sessions included, functions
 * newest registration first. FD is our connection number (Node does not expose descriptors).
 */
export function formatWorkers(connections: Iterable<ServerConnection>): string {
  let out = '';
  for (const conn of connections) {
    if (conn.closed) continue;
    let fns = '';
    for (let i = conn.abilities.length - 1; i >= 0; i--) fns += ` ${conn.abilities[i]?.fn.name ?? ''}`;
    out += `${conn.id} ${conn.remoteAddress} ${conn.clientId} :${fns}\n`;
  }
  return `${out}.\n`;
}

/** `HANDLE\tRETRIES\tIGNORE\tQUEUED`: IGNORE=1 for a cancelled or abandoned job, QUEUED=1 for background. */
export function formatJobs(broker: JobBroker): string {
  let out = '';
  for (const job of broker.jobs.values()) {
    out += `${job.handle}\t${job.retries}\t${job.ignored ? 1 : 0}\t${job.background ? 1 : 0}\n`;
  }
  return `${out}.\n`;
}

/** `UNIQUE` per job; a job without one prints an empty line. */
export function formatUniqueJobs(broker: JobBroker): string {
  let out = '';
  for (const job of broker.jobs.values()) out += `${job.unique}\n`;
  return `${out}.\n`;
}
