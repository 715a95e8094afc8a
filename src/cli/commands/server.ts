/**
 * gmr server: a gearmand-compatible job server in this process, until SIGINT/SIGTERM or (with
 * --allow-shutdown) the admin `shutdown` command. Loopback only unless --host says otherwise.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { JobServer } from '../../server/job-server.ts';

const HELP = `Usage: gmr server [options]

Runs a gearmand-compatible job server (binary protocol and admin text protocol on one port;
gearadmin, the gearman CLI and other Gearman libraries work with it). Stops on SIGINT, SIGTERM,
or with --allow-shutdown the admin command "shutdown" ("shutdown graceful" stops listening and
exits once the queued and running jobs are done).

Options:
  --host HOST           address to listen on                          [default: 127.0.0.1]
  --port PORT           TCP port (0 picks a free one)                  [default: 4730]
  --job-retries N       attempts before a job fails (0 = unlimited)    [default: 0]
  --max-packet BYTES    largest packet accepted                        [default: 1 GiB]
  --allow-shutdown      obey the admin "shutdown" command (anyone who can connect may send it)
  --verbose             log connections and errors to stderr
  -h, --help            show this help
`;

export interface ServerCommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, received "${text}"`);
  }
  return value;
}

function parse(argv: string[]): ReturnType<typeof parseOptions> {
  try {
    return parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // node:util parseArgs: unknown option, missing value, stray positional.
    throw new UsageError(`gmr server: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4730' },
      'job-retries': { type: 'string', default: '0' },
      'max-packet': { type: 'string' },
      'allow-shutdown': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

export async function serverCommand(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  let values: ReturnType<typeof parseOptions>;
  let port: number;
  let jobRetries: number;
  let maxPacketSize: number | undefined;
  try {
    values = parse(argv);
    port = wholeNumber('--port', values.port, 0, 65535);
    jobRetries = wholeNumber('--job-retries', values['job-retries'], 0, 2 ** 31 - 1);
    const maxPacket = values['max-packet'];
    maxPacketSize = maxPacket === undefined ? undefined : wholeNumber('--max-packet', maxPacket, 1, 2 ** 32 - 1);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`gmr: ${error.message.split('\n')[0]}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
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
