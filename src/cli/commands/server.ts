/**
 * gmr server: a gearmand-compatible job server in this process, until SIGINT/SIGTERM or (with
 * --allow-shutdown) the admin `shutdown` command. Loopback only unless --host says otherwise.
 */
import { UsageError } from '../../errors.ts';
import { JobServer, type JobServerQueueOptions, type JobServerTlsOptions } from '../../server/job-server.ts';
import { SERVER_TLS_FLAGS, serverTls } from '../tls-flags.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';
import { EXIT_USAGE } from '../io.ts';

export const SERVER_COMMAND = commandTable({
  name: 'server',
  usage: 'gmr server [options]',
  about: `Runs a gearmand-compatible job server (binary protocol and admin text protocol on one port;
gearadmin, the gearman CLI and other Gearman libraries work with it). Stops on SIGINT, SIGTERM,
or with --allow-shutdown the admin command "shutdown" ("shutdown graceful" stops listening and
exits once the queued and running jobs are done).`,
  flags: {
    host: { type: 'string', value: 'HOST', default: '127.0.0.1', help: 'address to listen on' },
    port: { type: 'string', value: 'PORT', default: '4730', help: 'TCP port (0 picks a free one)' },
    'job-retries': { type: 'string', value: 'N', default: '0', help: 'attempts before a job fails (0 = unlimited)' },
    'max-packet': { type: 'string', value: 'BYTES', defaultText: '128 MiB', help: 'largest packet accepted' },
    'max-memory': { type: 'string', value: 'BYTES', defaultText: 'no limit', help: 'payload bytes queued jobs may hold; more are refused' },
    'allow-shutdown': { type: 'boolean', help: 'obey the admin "shutdown" command (anyone who can connect may send it)' },
    'queue-type': { type: 'string', short: 'q', value: 'TYPE', default: 'builtin', section: 'Persistent queue', help: 'builtin (memory only) or libsqlite3 (background jobs kept in --libsqlite3-db)' },
    'libsqlite3-db': { type: 'string', value: 'FILE', section: 'Persistent queue', help: "SQLite file of the queue, created if missing (gearmand's format: either server replays the other's)" },
    'libsqlite3-table': { type: 'string', value: 'NAME', section: 'Persistent queue', defaultText: 'gearman_queue', help: 'table in that file' },
    'store-queue-on-shutdown': { type: 'boolean', section: 'Persistent queue', help: 'write the queue only when stopping (a kill loses it); replay and empty it at start' },
    queue: { type: 'string', value: 'TYPE', section: 'Persistent queue', help: 'sqlite (the same as -q libsqlite3) or memory (the same as -q builtin)' },
    'queue-file': { type: 'string', value: 'PATH', section: 'Persistent queue', help: 'the same as --libsqlite3-db' },
    verbose: { type: 'boolean', help: 'log connections and errors to stderr' },
    ...SERVER_TLS_FLAGS,
  },
});

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, received "${text}"`);
  }
  return value;
}

/** --queue NAME as gmr spells it, as the -q TYPE gearmand spells. */
const QUEUE_NAMES: Readonly<Record<string, string>> = { sqlite: 'libsqlite3', memory: 'builtin' };

/**
 * -q libsqlite3 --libsqlite3-db FILE [--libsqlite3-table NAME] [--store-queue-on-shutdown], as
 * gearmand spells them, or --queue sqlite --queue-file PATH: one of each pair.
 */
function queueOptions(values: {
  'queue-type': string;
  'libsqlite3-db'?: string | undefined;
  'libsqlite3-table'?: string | undefined;
  'store-queue-on-shutdown': boolean;
  queue?: string | undefined;
  'queue-file'?: string | undefined;
}): JobServerQueueOptions | undefined {
  if (values.queue !== undefined && values['queue-type'] !== 'builtin') throw new UsageError('--queue and --queue-type name the same thing: give one');
  if (values['queue-file'] !== undefined && values['libsqlite3-db'] !== undefined) throw new UsageError('--queue-file and --libsqlite3-db name the same thing: give one');
  const named = values.queue === undefined ? undefined : QUEUE_NAMES[values.queue];
  if (values.queue !== undefined && named === undefined) throw new UsageError(`--queue takes sqlite or memory, received "${values.queue}"`);
  const type = named ?? values['queue-type'];
  const file = values['queue-file'] ?? values['libsqlite3-db'];
  const table = values['libsqlite3-table'];
  if (type !== 'builtin' && type !== 'libsqlite3') throw new UsageError(`--queue-type takes builtin or libsqlite3, received "${type}"`);
  if (type === 'builtin') {
    const given = [values['queue-file'] === undefined ? '' : '--queue-file', values['libsqlite3-db'] === undefined ? '' : '--libsqlite3-db', table === undefined ? '' : '--libsqlite3-table', values['store-queue-on-shutdown'] ? '--store-queue-on-shutdown' : ''].find(Boolean);
    if (given) throw new UsageError(`${given} needs --queue-type libsqlite3`);
    return undefined;
  }
  if (file === undefined || file === '') throw new UsageError('--queue-type libsqlite3 needs --libsqlite3-db FILE');
  return { type, file, ...(table === undefined ? {} : { table }), storeOnShutdown: values['store-queue-on-shutdown'] };
}

export async function serverCommand(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  let parsed: ReturnType<typeof parseCommand<typeof SERVER_COMMAND.flags>>;
  let port: number;
  let jobRetries: number;
  let maxPacketSize: number | undefined;
  let maxMemory: number | undefined;
  let tls: JobServerTlsOptions | undefined;
  let queue: JobServerQueueOptions | undefined;
  try {
    parsed = parseCommand(SERVER_COMMAND, argv);
    const { values } = parsed;
    port = wholeNumber('--port', values.port, 0, 65535);
    jobRetries = wholeNumber('--job-retries', values['job-retries'], 0, 2 ** 31 - 1);
    const maxPacket = values['max-packet'];
    maxPacketSize = maxPacket === undefined ? undefined : wholeNumber('--max-packet', maxPacket, 1, 2 ** 32 - 1);
    const memory = values['max-memory'];
    maxMemory = memory === undefined ? undefined : wholeNumber('--max-memory', memory, 0, Number.MAX_SAFE_INTEGER);
    tls = serverTls(values);
    queue = queueOptions(values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`gmr: ${error.message.split('\n')[0]}\n`);
    return EXIT_USAGE;
  }
  const { values } = parsed;
  if (parsed.help) {
    io.stdout.write(helpText(SERVER_COMMAND));
    return 0;
  }
  const log = (line: string): void => {
    io.stderr.write(`gmr server: ${line}\n`);
  };
  const server = await JobServer.listen({
    host: values.host,
    port,
    jobRetries,
    allowShutdown: values['allow-shutdown'],
    ...(maxPacketSize === undefined ? {} : { maxPacketSize }),
    ...(maxMemory === undefined ? {} : { maxMemory }),
    ...(tls === undefined ? {} : { tls }),
    ...(queue === undefined ? {} : { queue }),
    ...(values.verbose ? { logger: log } : {}),
  });
  io.stderr.write(`gmr server listening on ${server.address}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (values.verbose) log(`${signal}: closing`);
      void server.close();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.once('close', () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    });
  });
  return 0;
}
