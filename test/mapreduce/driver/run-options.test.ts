/**
 * Run options are checked in one place: the library and the CLI refuse the same bad value with the
 * same words, before anything is loaded, planned or locked.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { runJob } from '../../../src/mapreduce/driver/run-job.ts';
import { UsageError } from '../../../src/errors.ts';

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = new PassThrough();
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(args, { stdout: new PassThrough(), stderr: err, isTTY: false, env: {} });
  return { code, stderr };
}

const base = { job: 'wordcount', input: ['data/sample'], stdout: new PassThrough() };

describe('run options', () => {
  it.each([
    [{ workers: 0 }, ['--workers', '0'], '--workers expects a whole number >= 1, received 0'],
    [{ reducers: 2.5 }, ['--reducers', '2.5'], '--reducers expects a whole number >= 1, received 2.5'],
    [{ maxAttempts: 0 }, ['--max-attempts', '0'], '--max-attempts expects a whole number >= 1, received 0'],
    [{ maxBadRecords: -1 }, ['--max-bad-records=-1'], '--max-bad-records expects a whole number >= 0, received -1'],
  ])('%j is refused by runJob and by gmr run with one wording', async (bad, flags, message) => {
    await expect(runJob({ ...base, ...bad })).rejects.toThrow(new UsageError(message));
    const r = await cli(['run', 'wordcount', '--input', 'data/sample', ...flags]);
    expect(r.code).toBe(64);
    // The CLI quotes the flag text it was given.
    expect(r.stderr).toBe(`gmr: ${message.replace(/received (.*)$/, 'received "$1"')}\n`);
  });

  it('refuses a run with no input, and one with neither an output folder nor a stream', async () => {
    await expect(runJob({ ...base, input: [] })).rejects.toThrow('No input: the run needs --input with files, folders or globs');
    await expect(runJob({ job: 'wordcount', input: ['data/sample'] })).rejects.toThrow(
      'Nowhere to write the result: give --output DIR (output), or a stream in stdout',
    );
  });

  it('refuses --resume without --output', async () => {
    await expect(runJob({ ...base, resume: true })).rejects.toThrow('--resume needs --output');
  });
});
