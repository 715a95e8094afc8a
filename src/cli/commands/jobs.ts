/** gmr jobs: list the built-in jobs with their descriptions. */
import { listBuiltinJobs } from '../../mapreduce/job/load-job.ts';
import type { CliIO } from '../io.ts';

export async function jobsCommand(argv: string[], io: CliIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('Usage: gmr jobs\n\nLists the built-in jobs; run one with: gmr run <name> --input <files>\n');
    return 0;
  }
  const jobs = await listBuiltinJobs();
  const width = Math.max(...jobs.map((j) => j.name.length));
  for (const job of jobs) io.stdout.write(`${job.name.padEnd(width)}  ${job.description}\n`);
  return 0;
}
