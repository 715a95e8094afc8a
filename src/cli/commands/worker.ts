/**
 * gmr worker: serve map and reduce tasks for the given job modules from every job server.
 * SIGTERM/SIGINT drain: stop taking tasks, finish the running ones, then exit.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.ts';
import { startTaskWorker } from '../../mapreduce/task/task-worker.ts';
import { resolveSecret, SECRET_ENV } from '../../mapreduce/shuffle/run-secret.ts';
import { secretFromText } from '../../mapreduce/shuffle/task-auth.ts';
import { DEFAULT_MAX_INFLATED_BYTES, DEFAULT_MAX_LINE_BYTES } from '../../mapreduce/task/input-guard.ts';
import type { CliIO } from '../io.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';
import { CLIENT_TLS_FLAGS, clientTls } from '../tls-flags.ts';
import { parseSize, parseWhole } from '../../mapreduce/driver/run-options.ts';
import { STREAMING_FLAGS, streamingSpec } from '../streaming-flags.ts';
import { EXIT_JOB_CODE_THREW, readWorkerLaunch } from '../../mapreduce/driver/worker-launch.ts';
import { installUncaughtGuard } from '../../mapreduce/task/uncaught-guard.ts';
import { stackOf, userFrame } from '../../mapreduce/task/user-stack.ts';
import type { TaskWorker } from '../../mapreduce/task/task-worker.ts';

export const WORKER_COMMAND = commandTable({
  name: 'worker',
  usage: 'gmr worker --servers host:port[,host:port…] --jobs name|path[,…] [options]\n       gmr worker --servers LIST --streaming --mapper CMD [--combiner CMD] [--reducer CMD]',
  about: `Serves map and reduce tasks (Gearman functions gmr.map.<job> and gmr.reduce.<job>) for the job
modules it was started with, from every job server in the list. One process uses one core: start
one per core (or use --concurrency for I/O-bound jobs). SIGTERM finishes running tasks, then exits.
With --streaming it also serves the streaming job of exactly these commands (gmr.map.stream-<hash>):
they are the only commands it runs, and a task naming others is refused.`,
  flags: {
    servers: { type: 'string', value: 'LIST', default: '127.0.0.1:4730', help: 'job servers [tls://]host:port (gearmand or gmr server), comma-separated' },
    jobs: { type: 'string', value: 'LIST', help: 'built-in job names or paths to job modules, comma-separated (required)' },
    concurrency: { type: 'string', value: 'N', default: '1', help: 'tasks at once in this process' },
    phases: { type: 'string', value: 'LIST', default: 'map,reduce', help: 'serve only these task kinds: map, reduce or map,reduce' },
    'client-id': { type: 'string', value: 'ID', help: 'SET_CLIENT_ID shown by gearadmin --workers' },
    'secret-file': { type: 'string', value: 'FILE', help: 'the run secret (else $GMR_SECRET): only tasks signed with it run, results are signed with it (docs/SECURITY.md)' },
    insecure: { type: 'boolean', help: 'run unsigned tasks and sign nothing (trusted single-user set-ups only)' },
    'input-root': { type: 'string', value: 'DIR', multiple: true, help: 'map tasks read only below DIR, after resolving symlinks; repeatable [default: the working directory]' },
    'max-line-length': { type: 'string', value: 'SIZE', default: '64m', help: 'longest input line a task reads' },
    'max-inflated-size': { type: 'string', value: 'SIZE', default: '16g', help: 'most bytes one .gz input may inflate to' },
    quiet: { type: 'boolean', help: 'no log lines on stderr' },
    streaming: { type: 'boolean', help: 'serve the streaming job of --mapper/--combiner/--reducer (run with the same flags)' },
    ...STREAMING_FLAGS,
    ...CLIENT_TLS_FLAGS,
    'args-on-stdin': {
      type: 'boolean',
      help: 'take the other flags as one JSON line on stdin, {"argv": [...], "cwd": DIR, "secret": TEXT or null}\n(gmr run starts its first local worker so, before it has planned)',
    },
  },
});

/** `gmr worker --args-on-stdin`: boots, then waits for its arguments (prestart-worker.ts); exits quietly if stdin ends first. */
async function argsOnStdin(argv: string[], io: CliIO): Promise<number> {
  if (argv.length > 1) throw new UsageError(`--args-on-stdin takes no other arguments (they come on stdin), received ${argv.filter((a) => a !== '--args-on-stdin').join(' ')}`);
  const launch = await readWorkerLaunch(0);
  if (launch === undefined) return 0;
  process.chdir(launch.cwd);
  const env = io.env ?? process.env;
  if (launch.secret === null) delete env[SECRET_ENV];
  else env[SECRET_ENV] = launch.secret;
  return workerCommand(launch.argv, { ...io, env });
}

export async function workerCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, help } = parseCommand(WORKER_COMMAND, argv);
  if (help) {
    io.stdout.write(helpText(WORKER_COMMAND));
    return 0;
  }
  if (values['args-on-stdin']) return argsOnStdin(argv, io);
  const streaming = streamingSpec(values);
  if (streaming && !values.streaming) throw new UsageError('--mapper on a worker needs --streaming: a worker runs commands only when told so on its own command line');
  if (values.streaming && !streaming) throw new UsageError('--streaming needs --mapper CMD (and --reducer CMD for a job that reduces): the commands this worker may run');
  if (!values.jobs && !streaming) throw new UsageError('gmr worker needs --jobs (for example --jobs wordcount,./my-job.ts) or --streaming --mapper CMD');
  const tls = clientTls(values);
  const concurrency = parseWhole(values.concurrency, '--concurrency', 1) ?? 1;
  const servers = values.servers.split(',').map((s) => s.trim()).filter(Boolean);
  const jobs = (values.jobs ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const phases = values.phases.split(',').map((s) => s.trim());
  for (const phase of phases) {
    if (phase !== 'map' && phase !== 'reduce') throw new UsageError(`--phases takes map and/or reduce, received "${phase}"`);
  }
  const secretText = values.insecure ? undefined : await resolveSecret(values['secret-file'], io.env);
  if (!values.insecure && secretText === undefined) {
    throw new UsageError(`gmr worker needs the run secret: --secret-file FILE or ${SECRET_ENV} (the driver's), or --insecure for unsigned tasks on a trusted machine`);
  }
  const maxLineBytes = values['max-line-length'] === undefined ? DEFAULT_MAX_LINE_BYTES : parseSize(values['max-line-length'], '--max-line-length');
  const maxInflatedBytes = values['max-inflated-size'] === undefined ? DEFAULT_MAX_INFLATED_BYTES : parseSize(values['max-inflated-size'], '--max-inflated-size');
  const log = (line: string): void => {
    if (!values.quiet) io.stderr.write(`gmr worker: ${line}\n`);
  };
  let tw: TaskWorker | undefined;
  let exiting = false;
  installUncaughtGuard((attempts, error) => {
    if (exiting) return;
    exiting = true;
    // Their failures are sent before the connections close; a stuck close does not keep the process.
    const closed = tw?.close({ timeoutMs: 5000 }) ?? Promise.resolve();
    void closed
      .catch(() => {})
      .finally(() => {
        // Written once the attempts are over (not into their logs). The attempts' reports went to
        // their drivers; with none, this line is all there is, so --quiet does not hide it.
        const at = userFrame(stackOf(error.thrown), jobs.map((j) => resolve(j)));
        const what = at === undefined || error.message.includes(`(at ${at})`) ? error.message : `${error.message} (at ${at})`;
        if (attempts === 0 || !values.quiet) io.stderr.write(`gmr worker: ${attempts > 0 ? `failed ${attempts} running task${attempts === 1 ? '' : 's'} and exits` : 'exits'}: ${what}\n`);
        process.exit(attempts > 0 ? EXIT_JOB_CODE_THREW : 1);
      });
  });
  tw = await startTaskWorker({
    servers,
    jobs,
    concurrency,
    phases: phases as Array<'map' | 'reduce'>,
    ...(tls ? { tls } : {}),
    ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
    ...(secretText === undefined ? { insecure: true } : { secret: secretFromText(secretText, '--secret-file') }),
    ...(values['input-root'] && values['input-root'].length > 0 ? { inputRoots: values['input-root'] } : {}),
    limits: { maxLineBytes, maxInflatedBytes },
    ...(streaming ? { streaming: { spec: streaming } } : {}),
  });
  tw.worker.on('connect', (address) => log(`connected to ${address}`));
  tw.worker.on('disconnect', (address, error) => log(`lost ${address}: ${error.message}; reconnecting`));
  tw.worker.on('job:fail', (job, error) => log(`task ${job.unique} failed: ${error.message}`));
  log(`serving ${tw.names.join(', ')} from ${servers.join(', ')}${secretText === undefined ? ' (--insecure: unsigned tasks)' : ''}`);
  // Reconnect timers are unref'd: while every job server is down nothing else keeps the event loop
  // alive, and the process would exit (code 13, unsettled await) instead of reconnecting.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // Local workers of `gmr run` exit with their driver: its end of our stdin closes when it dies.
    if (io.env?.['GMR_EXIT_WITH_STDIN'] === '1') {
      process.stdin.once('end', stop);
      process.stdin.once('close', stop);
      process.stdin.resume();
    }
  });
  clearInterval(keepAlive);
  log('draining: finishing running tasks');
  await tw.close();
  if (io.env?.['GMR_EXIT_WITH_STDIN'] === '1') process.stdin.destroy();
  return 0;
}
