/**
 * gmr run <job> --input … : runs a job with runJob and reports progress, the result and exit codes
 * (sysexits.h: see EXIT_CODES_HELP in ../io.ts).
 */
import { resolve } from 'node:path';
import { DeadlineError, GearmanError, InterruptedError, RunError, UsageError } from '../../errors.ts';
import { runJob, type RunSummary } from '../../mapreduce/driver/run-job.ts';
import { loadJob } from '../../mapreduce/job/load-job.ts';
import { ThrownOutsideTask } from '../../mapreduce/task/uncaught-guard.ts';
import { stackOf, userFrame } from '../../mapreduce/task/user-stack.ts';
import { describeParams } from '../../mapreduce/job/params.ts';
import { parseSeconds, parseSize, parseWhole } from '../../mapreduce/driver/run-options.ts';
import { EXIT_CODES_HELP, EXIT_OK, type CliIO } from '../io.ts';
import { exitCodeOf, reportError } from '../report-error.ts';
import { progressPrinter } from '../progress.ts';
import { endNotifier } from '../notify.ts';
import type { RunStatus } from '../../mapreduce/status/run-status.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';
import { CLIENT_TLS_FLAGS, clientTls } from '../tls-flags.ts';
import { resolveSecret } from '../../mapreduce/shuffle/run-secret.ts';
import { STREAMING_FLAGS, streamingSpec } from '../streaming-flags.ts';

const IO = 'Input and output';
const EXECUTION = 'Execution';
const REPORTING = 'Reporting';
const TRUST = 'Trust (docs/SECURITY.md)';

export const RUN_COMMAND = commandTable({
  name: 'run',
  usage: 'gmr run <job> --input PATH [--input PATH…] [options]\n       gmr run --mapper CMD [--combiner CMD] [--reducer CMD] --input PATH [options]',
  about: '<job> is a built-in job (see "gmr jobs") or a path to your own module (.ts or .js); or, with\n--mapper, any executables (Hadoop Streaming\'s contract; see README "Streaming").',
  positionals: true,
  flags: {
    input: { type: 'string', short: 'i', multiple: true, value: 'PATH', section: IO, help: 'file, folder or glob; repeatable or comma-separated (required)' },
    output: { type: 'string', short: 'o', value: 'DIR', section: IO, help: 'write part-NNNNN files and _SUCCESS to DIR (default: result on stdout)' },
    overwrite: { type: 'boolean', section: IO, help: 'replace a previous gmr output (never an input, never a folder gmr did not write);\nthe old one stays whole until the new one is in' },
    resume: {
      type: 'boolean',
      section: IO,
      help: 'finish the newest unfinished run of the same job and inputs in the\noutput folder, without redoing its finished map tasks',
    },
    param: { type: 'string', short: 'p', multiple: true, value: 'K=V', section: IO, help: 'a job parameter; repeatable ("gmr run <job> --help" lists the job\'s)' },
    servers: {
      type: 'string',
      value: 'LIST',
      section: EXECUTION,
      help: 'external job servers [tls://]host:port,… (gearmand or gmr server); workers must be\nstarted there with: gmr worker --servers LIST --jobs <job>\n(default: an embedded job server and local workers)',
    },
    ...CLIENT_TLS_FLAGS,
    ...STREAMING_FLAGS,
    workers: { type: 'string', value: 'N', defaultText: 'one per core', section: EXECUTION, help: 'local worker processes' },
    reducers: { type: 'string', value: 'N', defaultText: 'number of workers', section: EXECUTION, help: 'reduce tasks (partitions)' },
    'split-size': {
      type: 'string',
      value: 'SIZE',
      defaultText: 'input / (2 × workers), 1m..64m (with a combiner input / workers, up to 128m); small inputs one per worker up to 8m',
      section: EXECUTION,
      help: 'bytes per map task, e.g. 64m, 512k',
    },
    'max-attempts': { type: 'string', value: 'N', defaultText: '3', section: EXECUTION, help: 'attempts per task that may fail in job code' },
    'max-lost-attempts': { type: 'string', value: 'N', defaultText: '10', section: EXECUTION, help: 'attempts per task that may be lost to dead workers or results that do not verify' },
    'task-timeout': {
      type: 'string',
      value: 'SECS',
      defaultText: '600; 0 disables it',
      section: EXECUTION,
      help: 'abandon a task attempt that makes no progress (WORK_STATUS or data)\nfor this long on a worker, and run it again',
    },
    'no-worker-timeout': {
      type: 'string',
      value: 'SECS',
      defaultText: '60; 0 waits forever',
      section: EXECUTION,
      help: 'with --servers: fail the run when no job server has a worker for it this long',
    },
    deadline: {
      type: 'string',
      value: 'SECS',
      section: EXECUTION,
      help: 'stop the run if it has not committed after SECS (exit 75; with --output\nthe finished map tasks stay for --resume)',
    },
    'max-bad-records': {
      type: 'string',
      value: 'N',
      defaultText: 'fail on the first',
      section: EXECUTION,
      help: 'skip up to N records whose mapper throws (listed in _bad_records)\ninstead of failing the run',
    },
    ship: { type: 'boolean', section: EXECUTION, help: 'send split bytes in task payloads (workers without a shared filesystem)' },
    'secret-file': {
      type: 'string',
      value: 'FILE',
      section: TRUST,
      help: 'the run secret the --servers workers were started with (else $GMR_SECRET); tasks and\nresults are signed with it. Without --servers a fresh secret is made per run',
    },
    insecure: { type: 'boolean', section: TRUST, help: 'sign nothing (trusted single-user set-ups; loopback servers only)' },
    quiet: { type: 'boolean', short: 'q', section: REPORTING, help: 'no progress and no task log lines on stderr' },
    'log-limit': {
      type: 'string',
      value: 'SIZE',
      defaultText: '1m; 0 keeps none',
      section: REPORTING,
      help: 'what job code writes to stdout/stderr (console.*) kept per task attempt,\nin DIR/_logs/<run>/ and shown on stderr as [map 3 attempt 1] …',
    },
    'run-log-limit': { type: 'string', value: 'SIZE', defaultText: '64m', section: REPORTING, help: 'task log kept for the whole run' },
    json: { type: 'boolean', section: REPORTING, help: 'print a JSON summary (stdout with --output, else stderr)' },
    ui: { type: 'string', value: 'PORT', section: REPORTING, help: 'serve a live page of this run and its job servers on 127.0.0.1:PORT' },
    notify: { type: 'string', value: 'URL', section: REPORTING, help: 'POST the JSON summary to URL when the run commits or fails (3 tries)' },
    'on-exit': {
      type: 'string',
      value: 'CMD',
      section: REPORTING,
      help: 'run CMD with /bin/sh when the run ends, the JSON summary on its stdin\n(env GMR_EXIT_CODE, GMR_OUTCOME); neither changes the exit code',
    },
  },
  footer: EXIT_CODES_HELP,
});

function parseParams(list: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects KEY=VALUE, received "${item}"`);
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

/**
 * The end of the human output, as Hadoop ends a job's: the counters, one per line, then the
 * records read and written and the bad records skipped.
 */
function countersText(summary: { counters?: unknown; records?: unknown; outputRecords?: unknown; badRecords?: unknown }): string {
  const counters = (summary.counters ?? {}) as Record<string, number>;
  const bad = Array.isArray(summary.badRecords) ? summary.badRecords.length : 0;
  const lines = [
    'gmr: counters:',
    `  records read=${String(summary.records ?? 0)}`,
    `  records written=${String(summary.outputRecords ?? 0)}`,
    ...Object.keys(counters)
      .sort()
      .map((name) => `  ${name}=${counters[name]}`),
    `  bad records skipped=${bad}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** A word as a POSIX shell reads it back (quoted when it has anything but safe characters). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** `gmr run <job> --help`: the job's description and its params, before the general options. */
async function jobHelp(job: string): Promise<string> {
  const loaded = await loadJob(job, process.cwd());
  const description = loaded.definition.description ?? '(no description)';
  return [`Job ${loaded.name}: ${description}`, '', 'Parameters (--param NAME=VALUE):', ...describeParams(loaded.definition.params), ''].join('\n');
}

function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export async function runCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals, help } = parseCommand(RUN_COMMAND, argv);
  if (help) {
    io.stdout.write(positionals[0] === undefined ? helpText(RUN_COMMAND) : `${await jobHelp(positionals[0])}\n${helpText(RUN_COMMAND)}`);
    return EXIT_OK;
  }
  const streaming = streamingSpec(values);
  const [job, ...extra] = streaming ? [undefined, ...positionals] : positionals;
  if (!job && !streaming) throw new UsageError('gmr run needs a job: gmr run wordcount --input data/ (see gmr jobs), or --mapper CMD');
  if (streaming && positionals.length > 0) throw new UsageError(`A streaming run (--mapper) takes no <job>, received ${positionals.join(' ')}`);
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (inputs go after --input)`);
  const input = splitList(values.input);
  const servers = values.servers === undefined ? undefined : splitList([values.servers]);
  const tls = clientTls(values);
  if (tls && servers === undefined) throw new UsageError('--ssl is for --servers: the embedded job server is plain and loopback-only');
  const workers = parseWhole(values.workers, '--workers', 1);
  const reducers = parseWhole(values.reducers, '--reducers', 1);
  const maxAttempts = parseWhole(values['max-attempts'], '--max-attempts', 1);
  const maxLostAttempts = parseWhole(values['max-lost-attempts'], '--max-lost-attempts', 1);
  // The embedded default makes a fresh secret per run; external workers share one.
  const secret = values.insecure || (servers === undefined && values['secret-file'] === undefined) ? undefined : await resolveSecret(values['secret-file'], io.env);
  const maxBadRecords = parseWhole(values['max-bad-records'], '--max-bad-records', 0);
  const taskTimeoutMs = parseSeconds(values['task-timeout'], '--task-timeout', true);
  const deadlineMs = parseSeconds(values.deadline, '--deadline');
  const noWorkerTimeoutMs = parseSeconds(values['no-worker-timeout'], '--no-worker-timeout', true);
  const splitSize = values['split-size'] === undefined ? undefined : parseSize(values['split-size'], '--split-size');
  const size = (flag: 'log-limit' | 'run-log-limit'): number | undefined => {
    const text = values[flag];
    return text === undefined ? undefined : text.trim() === '0' ? 0 : parseSize(text, `--${flag}`);
  };
  const taskLogLimit = size('log-limit');
  const runLogLimit = size('run-log-limit');

  const notifyEnd = endNotifier({ notify: values.notify, onExit: values['on-exit'] }, io);
  const printer = progressPrinter(io.stderr, values.quiet ? 'quiet' : io.isTTY ? 'tty' : 'plain', {
    columns: () => io.columns ?? (io.stderr as { columns?: number }).columns,
  });
  const jsonOut = values.output ? io.stdout : io.stderr;
  let summary: RunSummary;
  let runStatus: RunStatus | undefined;
  const ui =
    values.ui === undefined
      ? undefined
      : // Loaded only for --ui: a run without the page does not pay for the dashboard's modules.
        await (await import('../dashboard/dashboard-server.ts')).Dashboard.start({
          servers: () => runStatus?.servers ?? [],
          runs: async () => (runStatus ? [runStatus] : []),
          port: (await import('./dashboard.ts')).parsePort(values.ui, '--ui'),
          title: `gmr run ${job}`,
        });
  if (ui) io.stderr.write(`gmr: live page of this run on ${ui.url}\n`);
  const closeUi = async (): Promise<void> => {
    await ui?.refresh().catch(() => {});
    await ui?.close();
  };
  // SIGINT/SIGTERM stop the run: its temporary folder goes, or with --output stays for --resume.
  // A second signal is not caught: it ends the process at once.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    printer.done();
    io.stderr.write(`gmr: ${signal}: stopping the run (again to quit at once)\n`);
    stop.abort(new InterruptedError(signal, `Stopped by ${signal}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The driver loads the job module too (to plan): what its own timers or promises throw stops the
  // run with one line naming the module's line, instead of Node's stack dump.
  const onThrown = (thrown: unknown): void => {
    if (stop.signal.aborted) return;
    printer.done();
    const at = job === undefined ? undefined : userFrame(stackOf(thrown), [resolve(job)]);
    stop.abort(new ThrownOutsideTask(thrown, 'the run stops', at));
  };
  process.on('uncaughtException', onThrown);
  const deadline =
    deadlineMs === undefined
      ? undefined
      : setTimeout(() => {
          printer.done();
          stop.abort(new DeadlineError(`The run did not commit within --deadline ${values.deadline} s; stopped`));
        }, deadlineMs);
  deadline?.unref();
  try {
    summary = await runJob({
      signal: stop.signal,
      ...(streaming ? { streaming } : { job: job as string }),
      command: ['gmr', 'run', ...argv],
      exitCodeOf,
      onRunStatus: (status) => {
        runStatus = status;
      },
      input,
      output: values.output,
      overwrite: values.overwrite,
      resume: values.resume,
      onLog: (line) => {
        if (!values.quiet) printer.print(`gmr: ${line}`);
      },
      ...(values.quiet ? {} : { onTaskLog: (line: string) => printer.print(line) }),
      ...(taskLogLimit === undefined ? {} : { taskLogLimit }),
      ...(runLogLimit === undefined ? {} : { runLogLimit }),
      params: parseParams(values.param),
      // Options left undefined take runJob's defaults.
      servers,
      ...(tls ? { tls } : {}),
      workers,
      reducers,
      maxAttempts,
      maxLostAttempts,
      secret,
      insecure: values.insecure,
      maxBadRecords,
      taskTimeoutMs,
      noWorkerTimeoutMs,
      splitSize,
      ship: values.ship,
      stdout: io.stdout,
      onProgress: (p) => printer.update(p),
    });
  } catch (error) {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onThrown);
    printer.done();
    const code = error instanceof GearmanError ? error.code : 'GMR_ERR_UNKNOWN';
    // The same fields as on success, so far as the run got, plus the failure as fields.
    const sofar = error instanceof RunError ? error.summary : undefined;
    const failure = { job, ...sofar, ok: false, code, error: (error as Error).message };
    if (values.json) jsonOut.write(`${JSON.stringify(failure)}\n`);
    else if (!values.quiet && sofar) io.stderr.write(countersText(sofar));
    const exitCode = reportError(error, io);
    if (stop.signal.aborted && !(stop.signal.reason instanceof ThrownOutsideTask) && values.output !== undefined) {
      const again = ['gmr', 'run', ...argv.filter((a) => a !== '--resume'), '--resume'].map(shellWord).join(' ');
      io.stderr.write(`gmr: the finished map tasks are kept in ${values.output}/_temporary; resume with: ${again}\n`);
    }
    await closeUi();
    await notifyEnd(failure, exitCode);
    return exitCode;
  }
  clearTimeout(deadline);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onThrown);
  printer.done();
  if (values.json) jsonOut.write(`${JSON.stringify(summary)}\n`);
  else if (!values.quiet) {
    if (values.output) {
      io.stderr.write(
        `gmr: ${summary.job} done in ${(summary.timings.totalMs / 1000).toFixed(1)} s: ${summary.mapTasks} map, ${summary.reduceTasks} reduce tasks, output in ${summary.output}\n`,
      );
    }
    // On a terminal without --output the result was just printed there: keep it the last thing shown.
    if (values.output || !io.isTTY) io.stderr.write(countersText(summary));
  }
  await closeUi();
  await notifyEnd(summary, EXIT_OK);
  return EXIT_OK;
}
