/**
 * gmr status DIR|RUNID [--servers LIST] [--json] [--watch] [--all] : a run's state from any shell
 * that sees its output folder or its job servers. --watch redraws until the run ends and exits
 * with the run's exit code.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../errors.ts';
import { watchRun, type WatchedRun } from '../../mapreduce/status/live-status.ts';
import { listRuns, readStatusFile, scratchRunDir, STATUS_FILE, type RunStatus } from '../../mapreduce/status/run-status.ts';
import { serverTasks } from '../../mapreduce/status/server-tasks.ts';
import { formatHistoryLine, formatRun, formatServerTasks, statusJson } from '../format-status.ts';
import { EXIT_FAILED, EXIT_OK, type CliIO } from '../io.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';
import { CLIENT_TLS_FLAGS, clientTls } from '../tls-flags.ts';

export const STATUS_COMMAND = commandTable({
  name: 'status',
  usage: 'gmr status DIR|RUNID [--servers LIST] [--json] [--watch] [--all] [--ssl …]',
  about: `Shows a run: job, run id, step and phase, tasks done/running/failed/total, bytes, rate, ETA,
attempts, the latest task messages, times and the outcome (running, committed, failed with its
report, abandoned: its driver is gone, with the command that resumes it).

DIR is an output folder (its newest run) or a run folder; RUNID is a run id: its run folder is
looked up on this host, and with --servers the job servers are asked for its tasks in flight
(GET_STATUS_UNIQUE).`,
  positionals: true,
  flags: {
    servers: { type: 'string', short: 's', value: 'LIST', defaultText: 'the ones the run uses', help: 'job servers host:port,… to ask' },
    json: { type: 'boolean', help: 'one JSON object (with --watch: one per redraw, a line each)' },
    watch: { type: 'boolean', short: 'w', help: "redraw until the run ends; exit with the run's exit code" },
    interval: { type: 'string', value: 'SECS', default: '2', help: 'redraw interval with --watch' },
    all: { type: 'boolean', short: 'a', help: 'every run of the output folder (history): start, end, outcome, counters' },
    ...CLIENT_TLS_FLAGS,
  },
  footer: `Exit codes: 0 when the state was shown (with --watch: the run's exit code), 1 when the run is
unknown (or, with --watch, failed or abandoned), 64 for usage errors.`,
});

/** The runs DIR names: an output folder's (oldest first) or a run folder's own. */
async function runsOf(target: string): Promise<RunStatus[] | undefined> {
  const info = await stat(target).catch(() => undefined);
  if (!info?.isDirectory()) return undefined;
  const own = await readStatusFile(join(target, STATUS_FILE));
  return own ? [own] : listRuns(target);
}

function exitCodeOf(run: WatchedRun): number {
  if (run.outcome === 'committed') return run.status.exitCode ?? EXIT_OK;
  if (run.outcome === 'failed') return run.status.exitCode ?? EXIT_FAILED;
  return EXIT_FAILED;
}

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals, help } = parseCommand(STATUS_COMMAND, argv);
  if (help) {
    io.stdout.write(helpText(STATUS_COMMAND));
    return EXIT_OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`gmr status needs one output folder or run id, received ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  }
  const target = positionals[0] as string;
  const tls = clientTls(values);
  const servers = (values.servers ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0) throw new UsageError(`--interval expects seconds > 0, received "${values.interval}"`);
  if (values.all && values.watch) throw new UsageError('--all lists ended runs; it does not go with --watch');
  const watchOptions = { ...(servers.length > 0 ? { servers } : {}), ...(tls ? { tls } : {}) };
  const cwd = process.cwd();

  const read = async (): Promise<RunStatus[] | undefined> => {
    const inFolder = await runsOf(resolve(cwd, target));
    if (inFolder) return inFolder;
    if (!/^[\w.-]+$/.test(target)) return undefined;
    const scratch = await readStatusFile(join(scratchRunDir(target), STATUS_FILE));
    return scratch ? [scratch] : undefined;
  };

  if (values.all) {
    const runs = await read();
    if (!runs || runs.length === 0) return unknown(target, io);
    const watched = await Promise.all(runs.map((r) => watchRun(r, watchOptions)));
    if (values.json) io.stdout.write(`${JSON.stringify(watched.map(statusJson))}\n`);
    else io.stdout.write(watched.map((w) => `${formatHistoryLine(w)}\n`).join(''));
    return EXIT_OK;
  }

  const redraw = io.isTTY === true && values.watch && !values.json;
  for (;;) {
    const runs = await read();
    const latest = runs?.[runs.length - 1];
    if (!latest) {
      if (servers.length === 0) return unknown(target, io);
      // No run folder here: what the job servers hold of the run.
      const view = await serverTasks(target, servers, 3000, tls);
      io.stdout.write(values.json ? `${JSON.stringify(view)}\n` : formatServerTasks(view));
      if (!values.watch) return EXIT_OK;
      if (view.tasks.length === 0) return view.servers.some((s) => s.up) ? EXIT_OK : EXIT_FAILED;
    } else {
      const run = await watchRun(latest, watchOptions);
      const text = values.json ? `${JSON.stringify(statusJson(run))}\n` : formatRun(run);
      io.stdout.write(redraw ? `\x1b[H\x1b[2J${text}` : values.watch && !values.json ? `${text}\n` : text);
      if (!values.watch) return EXIT_OK;
      if (run.outcome !== 'running') return exitCodeOf(run);
    }
    await sleep(interval * 1000);
    // The reader went away (`gmr status DIR --watch | head -3`): nobody is watching any more.
    if (io.stdoutGone?.() === true) return EXIT_OK;
  }
}

function unknown(target: string, io: CliIO): number {
  const looksLikePath = target.includes('/') || target.startsWith('.');
  io.stderr.write(
    looksLikePath
      ? `gmr: no gmr run in ${target}: expected an output folder with _temporary/<run>/${STATUS_FILE} or _history/, or a run folder\n`
      : `gmr: no run "${target}" here: give its output folder, or --servers to ask the job servers\n`,
  );
  return EXIT_FAILED;
}
