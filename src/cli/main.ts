/**
 * `gmr` command dispatch. Commands are small async functions over the callable core, so everything
 * the CLI does a program can do too. Known errors (GearmanError) print one line; unknown ones print
 * the stack. Returns the exit code; only bin/gmr.js ends the process.
 */
import { packageVersion } from '../mapreduce/job/package-root.ts';
import { EXIT_USAGE, type CliIO } from './io.ts';
import { reportError } from './report-error.ts';

type Command = (argv: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: 'run a map/reduce job over input files',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  worker: {
    summary: 'serve map and reduce tasks for job modules from job servers',
    load: async () => (await import('./commands/worker.ts')).workerCommand,
  },
  server: {
    summary: 'run a gearmand-compatible job server',
    load: async () => (await import('./commands/server.ts')).serverCommand,
  },
  status: {
    summary: 'show the state of a run from any shell: output folder or run id',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  dashboard: {
    summary: 'a live web page for job servers and runs',
    load: async () => (await import('./commands/dashboard.ts')).dashboardCommand,
  },
  jobs: {
    summary: 'list the built-in jobs',
    load: async () => (await import('./commands/jobs.ts')).jobsCommand,
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: gmr <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Examples:',
    '  gmr run wordcount --input data/sample',
    '  gmr run ./my-job.ts --input "logs/**/*.gz" --output out/ --servers a:4730,b:4730',
    '  gmr worker --servers a:4730,b:4730 --jobs wordcount,./my-job.ts',
    '  gmr server --port 4730',
    '  gmr status out/ --watch',
    '  gmr dashboard --servers a:4730,b:4730 --runs out/',
    '',
    'Run "gmr <command> --help" for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`gmr: unknown command "${name}"; available: ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT_USAGE;
  }
  try {
    const run = await command.load();
    return await run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function defaultIO(): CliIO {
  // A reader that went away (`gmr jobs | head -1`) is not an error: what is left to write goes
  // nowhere, quietly, as with other Unix tools, and a command that would go on (--watch) stops.
  // Any other write error still surfaces.
  let gone = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (stream === process.stdout) gone = true;
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true, env: process.env, stdoutGone: () => gone };
}
