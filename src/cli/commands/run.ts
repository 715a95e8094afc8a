/**
 * gmr run <job> --input … : runs a job with runJob and reports progress, the result and exit codes
 * (0 only when the output is committed, 1 when the run failed, 2 for usage errors).
 */
import { parseArgs } from 'node:util';
import { GearmanError, UsageError } from '../../errors.ts';
import { runJob, type RunSummary } from '../../mapreduce/driver/run-job.ts';
import { parseSeconds, parseSize, parseWhole } from '../../mapreduce/driver/run-options.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIO } from '../io.ts';
import { reportError } from '../report-error.ts';
import { progressPrinter } from '../progress.ts';
import { endNotifier } from '../notify.ts';
import type { RunStatus } from '../../mapreduce/status/run-status.ts';
import { Dashboard } from '../dashboard/dashboard-server.ts';
import { parsePort } from './dashboard.ts';

const HELP = `Usage: gmr run <job> --input PATH [--input PATH…] [options]

<job> is a built-in job (see "gmr jobs") or a path to your own module (.ts or .js).

Input and output:
  -i, --input PATH       file, folder or glob; repeatable or comma-separated (required)
  -o, --output DIR       write part-NNNNN files and _SUCCESS to DIR (default: result on stdout)
      --overwrite        replace a non-empty output folder
      --resume           finish the newest unfinished run of the same job and inputs in the
                         output folder, without redoing its finished map tasks
  -p, --param K=V        a job parameter; repeatable

Execution:
      --servers LIST     external job servers host:port,… (gearmand or gmr server); workers must be
                         started there with: gmr worker --servers LIST --jobs <job>
                         (default: an embedded job server and local workers)
      --workers N        local worker processes [default: one per core]
      --reducers N       reduce tasks (partitions) [default: number of workers]
      --split-size SIZE  bytes per map task, e.g. 64m, 512k [default: input / (4 × workers), 1m..64m]
      --max-attempts N   attempts per task before the run fails [default: 3]
      --task-timeout SECS  abandon a task attempt that runs longer and run it again
      --max-bad-records N  skip up to N records whose mapper throws (listed in _bad_records)
                         instead of failing the run [default: fail on the first]
      --ship             send split bytes in task payloads (workers without a shared filesystem)

Reporting:
  -q, --quiet            no progress on stderr
      --json             print a JSON summary (stdout with --output, else stderr)
      --ui PORT          serve a live page of this run and its job servers on 127.0.0.1:PORT
      --notify URL       POST the JSON summary to URL when the run commits or fails (3 tries)
      --on-exit CMD      run CMD with /bin/sh when the run ends, the JSON summary on its stdin
                         (env GMR_EXIT_CODE, GMR_OUTCOME); neither changes the exit code
  -h, --help             show this help

Exit codes: 0 output committed, 1 run failed, 2 usage error.
`;

function parseParams(list: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects KEY=VALUE, received "${item}"`);
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export async function runCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i', multiple: true },
        output: { type: 'string', short: 'o' },
        overwrite: { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        param: { type: 'string', short: 'p', multiple: true },
        servers: { type: 'string' },
        workers: { type: 'string' },
        reducers: { type: 'string' },
        'split-size': { type: 'string' },
        'max-attempts': { type: 'string' },
        'max-bad-records': { type: 'string' },
        'task-timeout': { type: 'string' },
        ship: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        json: { type: 'boolean', default: false },
        notify: { type: 'string' },
        ui: { type: 'string' },
        'on-exit': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see gmr run --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const [job, ...extra] = positionals;
  if (!job) throw new UsageError('gmr run needs a job: gmr run wordcount --input data/ (see gmr jobs)');
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (inputs go after --input)`);
  const input = splitList(values.input);
  const servers = values.servers === undefined ? undefined : splitList([values.servers]);
  const workers = parseWhole(values.workers, '--workers', 1);
  const reducers = parseWhole(values.reducers, '--reducers', 1);
  const maxAttempts = parseWhole(values['max-attempts'], '--max-attempts', 1);
  const maxBadRecords = parseWhole(values['max-bad-records'], '--max-bad-records', 0);
  const taskTimeoutMs = parseSeconds(values['task-timeout'], '--task-timeout');
  const splitSize = values['split-size'] === undefined ? undefined : parseSize(values['split-size'], '--split-size');

  const notifyEnd = endNotifier({ notify: values.notify, onExit: values['on-exit'] }, io);
  const printer = progressPrinter(io.stderr, values.quiet ? 'quiet' : io.isTTY ? 'tty' : 'plain');
  const jsonOut = values.output ? io.stdout : io.stderr;
  let summary: RunSummary;
  let runStatus: RunStatus | undefined;
  const ui =
    values.ui === undefined
      ? undefined
      : await Dashboard.start({
          servers: () => runStatus?.servers ?? [],
          runs: async () => (runStatus ? [runStatus] : []),
          port: parsePort(values.ui, '--ui'),
          title: `gmr run ${job}`,
        });
  if (ui) io.stderr.write(`gmr: live page of this run on ${ui.url}\n`);
  const closeUi = async (): Promise<void> => {
    await ui?.refresh().catch(() => {});
    await ui?.close();
  };
  try {
    summary = await runJob({
      job,
      command: ['gmr', 'run', ...argv],
      exitCodeOf: (error) => (error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED),
      onRunStatus: (status) => {
        runStatus = status;
      },
      input,
      ...(values.output === undefined ? {} : { output: values.output }),
      overwrite: values.overwrite,
      resume: values.resume,
      onLog: (line) => {
        if (!values.quiet) io.stderr.write(`gmr: ${line}\n`);
      },
      params: parseParams(values.param ?? []),
      ...(servers ? { servers } : {}),
      ...(workers === undefined ? {} : { workers }),
      ...(reducers === undefined ? {} : { reducers }),
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(maxBadRecords === undefined ? {} : { maxBadRecords }),
      ...(taskTimeoutMs === undefined ? {} : { taskTimeoutMs }),
      ...(splitSize === undefined ? {} : { splitSize }),
      ship: values.ship,
      stdout: io.stdout,
      onProgress: (p) => printer.update(p),
    });
  } catch (error) {
    printer.done();
    const code = error instanceof GearmanError ? error.code : 'GMR_ERR_UNKNOWN';
    const failure = { ok: false, job, code, error: (error as Error).message };
    if (values.json) jsonOut.write(`${JSON.stringify(failure)}\n`);
    const exitCode = reportError(error, io);
    await closeUi();
    await notifyEnd(failure, exitCode);
    return exitCode;
  }
  printer.done();
  if (values.json) jsonOut.write(`${JSON.stringify(summary)}\n`);
  else if (!values.quiet && values.output) {
    io.stderr.write(
      `gmr: ${summary.job} done in ${(summary.timings.totalMs / 1000).toFixed(1)} s: ${summary.mapTasks} map, ${summary.reduceTasks} reduce tasks, output in ${summary.output}\n`,
    );
  }
  await closeUi();
  await notifyEnd(summary, EXIT_OK);
  return EXIT_OK;
}
