/**
 * gmr dashboard --servers LIST [--runs DIR…] [--port N] : a live web page for job servers
 * (gearmand or gmr server) and the runs of output folders, until SIGINT/SIGTERM.
 */
import { UsageError } from '../../errors.ts';
import { listRuns, type RunStatus } from '../../mapreduce/status/run-status.ts';
import { Dashboard } from '../dashboard/dashboard-server.ts';
import { EXIT_OK, type CliIO } from '../io.ts';
import { CLIENT_TLS_FLAGS, clientTls } from '../tls-flags.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';

export const DASHBOARD_COMMAND = commandTable({
  name: 'dashboard',
  usage: 'gmr dashboard --servers LIST [--runs DIR…] [--port N] [--host ADDR] [--ssl …]',
  about: `A live web page: job servers (up/down, version), functions with queued, running and available
workers, the workers per server, and the runs of output folders with progress, ETA and failures.
Works with gearmand as well as gmr server. Updates live (server-sent events); readable without
JavaScript.`,
  flags: {
    servers: { type: 'string', short: 's', value: 'LIST', help: 'job servers host:port,… to watch' },
    runs: { type: 'string', short: 'r', multiple: true, value: 'DIR', help: 'an output folder whose runs to show (its _temporary/ and _history/); repeatable' },
    port: { type: 'string', short: 'p', value: 'N', default: '4740', defaultText: '4740; 0 picks a free one', help: 'port to listen on' },
    host: { type: 'string', value: 'ADDR', default: '127.0.0.1', defaultText: '127.0.0.1; 0.0.0.0 shows it to the network', help: 'address to bind' },
    interval: { type: 'string', value: 'SECS', default: '1', help: 'how often to ask the servers' },
    ...CLIENT_TLS_FLAGS,
  },
});

/** Runs of each folder, newest first, at most `perFolder` of each. */
export function folderRuns(dirs: string[], perFolder = 10): () => Promise<RunStatus[]> {
  return async () => {
    const lists = await Promise.all(dirs.map(async (dir) => (await listRuns(dir)).slice(-perFolder).reverse()));
    return lists.flat();
  };
}

export function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} expects a port 0-65535, received "${text}"`);
  return port;
}

export async function dashboardCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, help } = parseCommand(DASHBOARD_COMMAND, argv);
  if (help) {
    io.stdout.write(helpText(DASHBOARD_COMMAND));
    return EXIT_OK;
  }
  const tls = clientTls(values);
  const servers = (values.servers ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const runs = values.runs.flatMap((r) => r.split(',')).filter(Boolean);
  if (servers.length === 0 && runs.length === 0) {
    throw new UsageError('gmr dashboard needs --servers host:port,… or --runs DIR (or both)');
  }
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0) throw new UsageError(`--interval expects seconds > 0, received "${values.interval}"`);
  const dashboard = await Dashboard.start({
    servers,
    ...(runs.length > 0 ? { runs: folderRuns(runs) } : {}),
    port: parsePort(values.port, '--port'),
    host: values.host,
    intervalMs: interval * 1000,
    ...(tls ? { tls } : {}),
    title: `gmr dashboard: ${[...servers, ...runs].join(', ')}`,
  });
  io.stderr.write(`gmr dashboard on ${dashboard.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await dashboard.close();
  return EXIT_OK;
}
