/** gmr jobs: list the built-in jobs with their descriptions. */
import { listBuiltinJobs } from '../../mapreduce/job/load-job.ts';
import type { CliIO } from '../io.ts';
import { commandTable, helpText, parseCommand } from '../option-table.ts';

export const JOBS_COMMAND = commandTable({
  name: 'jobs',
  usage: 'gmr jobs',
  about: 'Lists the built-in jobs; run one with: gmr run <name> --input <files>',
  flags: {},
});

export async function jobsCommand(argv: string[], io: CliIO): Promise<number> {
  if (parseCommand(JOBS_COMMAND, argv).help) {
    io.stdout.write(helpText(JOBS_COMMAND));
    return 0;
  }
  const jobs = await listBuiltinJobs();
  const width = Math.max(...jobs.map((j) => j.name.length));
  for (const job of jobs) io.stdout.write(`${job.name.padEnd(width)}  ${job.description}\n`);
  return 0;
}
