/**
 * The driver resolves each split's input format with the job module API's own check, so a job
 * whose `input` names a format that does not exist fails before any task runs, naming the file and
 * the format; the driver once had its own copy of the resolution, without the check.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../../src/mapreduce/driver/run-job.ts';
import { resolveInputFormat } from '../../../src/mapreduce/job/input-format.ts';
import { REPO_ROOT } from '../../helpers/gmr-cli.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('input format', () => {
  it('resolves a name or a function of path and params, and refuses unknown formats', () => {
    expect(resolveInputFormat(undefined, 'a.txt', {})).toBe('lines');
    expect(resolveInputFormat('csv', 'a.txt', {})).toBe('csv');
    expect(resolveInputFormat((path, params) => (path.endsWith('.json') && params['x'] === '1' ? 'json' : 'lines'), 'a.json', { x: '1' })).toBe('json');
    expect(() => resolveInputFormat(() => 'CSV' as 'csv', 'a.txt', {})).toThrow('expected input format lines, csv or json, received "CSV"');
  });

  it('fails the run at planning, naming the file, when the job names a format that does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-format-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.txt'), 'x\ny\n');
    const run = runJob({
      job: join(REPO_ROOT, 'test/fixtures/jobs/bad-format.js'),
      input: [join(dir, 'a.txt')],
      workers: 2,
      reducers: 2,
      stdout: new PassThrough(),
    });
    await expect(run).rejects.toThrow(`Job bad-format: choosing the input format of ${join(dir, 'a.txt')}: expected input format lines, csv or json, received "xml"`);
    const error = await run.catch((e: unknown) => e);
    // No task ran: the plan refused it, not three failed attempts of a map task.
    expect(String(error)).not.toMatch(/attempt/);
  });
});
