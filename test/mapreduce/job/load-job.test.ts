import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobDefinitionError, UsageError } from '../../../src/errors.ts';
import { listBuiltinJobs, loadJob, resolveParams } from '../../../src/mapreduce/job/load-job.ts';
import { defineJob } from '../../../src/mapreduce/job/define-job.ts';
import { runMapTask } from '../../../src/mapreduce/task/map-task.ts';
import { TaskFailure } from '../../../src/mapreduce/task/task-failure.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const USER_JOB = `
// A user job that imports nothing: a plain object literal with map and reduce.
interface Totals { n: number }
export default {
  description: 'user job',
  map(line: string, ctx: { emit(key: string, value: Totals): void }): void {
    ctx.emit(line.toUpperCase(), { n: line.length });
  },
  reduce(_key: string, values: Totals[]): number {
    return values.reduce((sum, v) => sum + v.n, 0);
  },
};
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('loadJob', () => {
  it('loads built-in jobs by name', async () => {
    const job = await loadJob('wordcount');
    expect(job.name).toBe('wordcount');
    expect(job.source).toBe(path.join(ROOT, 'jobs', 'wordcount.ts'));
    expect(job.definition.mapBytes).toBeTypeOf('function');
    expect(job.definition.combine).toBeTypeOf('function');
  });

  it('lists the built-in jobs with descriptions, not lib/', async () => {
    const jobs = await listBuiltinJobs();
    expect(jobs.map((j) => j.name)).toEqual(['aggregate', 'grep', 'invertedindex', 'sessions', 'topwords', 'wordcount']);
    for (const j of jobs) expect(j.description.length).toBeGreaterThan(10);
  });

  it('names the available jobs for an unknown name', async () => {
    const err = await loadJob('wrodcount').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobDefinitionError);
    expect((err as JobDefinitionError).message).toBe('Unknown job "wrodcount"; available: aggregate, grep, invertedindex, sessions, topwords, wordcount');
    expect((err as JobDefinitionError).code).toBe('GMR_ERR_JOB_DEFINITION');
  });

  it('names the resolved path of a missing module', async () => {
    await expect(loadJob('./nope/missing.ts', '/tmp')).rejects.toThrow(new JobDefinitionError('Job module not found: /tmp/nope/missing.ts'));
    await expect(loadJob('jobs/readme.txt', ROOT)).rejects.toThrow(/expected a \.ts, \.mts, \.js or \.mjs file, received "\.txt"/);
  });

  it('says what it expected and received for a module of the wrong shape', async () => {
    await expect(loadJob('test/fixtures/jobs/bad-shape.ts', ROOT)).rejects.toThrow(
      /bad-shape\.ts: expected a default export made with defineJob\(\{ map, \.\.\. \}\) or defineJob\(\{ steps: \[\.\.\.\] \}\) \(an object with a map or mapBytes function, or steps\), received default export is an object without a map or mapBytes function or steps \(keys: description, mapper\)$/,
    );
    dir = await mkdtemp(path.join(tmpdir(), 'gmr-load-'));
    await writeFile(path.join(dir, 'none.mjs'), 'export const job = {};\n');
    await expect(loadJob('none.mjs', dir)).rejects.toThrow(/received default export is undefined/);
    await writeFile(path.join(dir, 'syntax.mjs'), 'export default {\n');
    await expect(loadJob('syntax.mjs', dir)).rejects.toThrow(/syntax\.mjs failed to load/);
  });

  it('loads a job fixture whose map throws, and the failure names the record', async () => {
    const { definition } = await loadJob('test/fixtures/jobs/throws.ts', ROOT);
    const source = async (onRecord: (line: string, pos: { line: number; offset: number }) => void) => {
      onRecord('fine', { line: 1, offset: 0 });
      onRecord('a boom here', { line: 2, offset: 5 });
      return { records: 2, bytes: 17 };
    };
    const spec = { job: 'throws', index: 0, partitions: 2, params: {}, split: { path: 'x.txt', offset: 0, length: 17 } };
    const err = await runMapTask(definition, spec, source, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).message).toBe('throws map task 0 failed on x.txt@0+17, line 2 (byte 5): exploded on "a boom here"');
  });

  it('loads a user .ts module from any folder', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gmr-load-'));
    await writeFile(path.join(dir, 'mine.ts'), USER_JOB);
    const job = await loadJob('./mine.ts', dir);
    expect(job.source).toBe(path.join(dir, 'mine.ts'));
    expect(job.definition.description).toBe('user job');
    expect(job.definition.reduce?.('K', [{ n: 2 }, { n: 3 }], {} as never, undefined)).toBe(5);
  });

  it('loads a user .ts module through tsx outside vitest', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gmr-load-'));
    await writeFile(path.join(dir, 'mine.mts'), USER_JOB);
    const script = `
      const { loadJob } = await import(${JSON.stringify(path.join(ROOT, 'src/mapreduce/job/load-job.ts'))});
      const job = await loadJob('mine.mts', ${JSON.stringify(dir)});
      const emitted = [];
      job.definition.map('ab', { emit: (k, v) => emitted.push([k, v]) });
      console.log(JSON.stringify(emitted));
    `;
    const env = { ...process.env };
    delete env['VITEST'];
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([['AB', { n: 2 }]]);
  });
});

describe('resolveParams', () => {
  const def = {
    map: () => undefined,
    params: {
      pattern: { description: 'regex', required: true },
      ignoreCase: { description: 'fold case', default: 'false' },
      limit: { description: 'max lines' },
    },
  };

  it('applies defaults and keeps given values', () => {
    expect(resolveParams(def, { pattern: 'x' }, 'grep')).toEqual({ pattern: 'x', ignoreCase: 'false' });
    expect(resolveParams(def, { pattern: 'x', ignoreCase: 'true', limit: '3' }, 'grep')).toEqual({ pattern: 'x', ignoreCase: 'true', limit: '3' });
  });

  it('lists missing required and unknown params in one UsageError', () => {
    const err = (() => {
      try {
        resolveParams(def, { patern: 'x' }, 'grep');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe(
      'Unknown param "patern" for job grep; known: pattern, ignoreCase, limit; Missing required param for job grep: pattern (regex); pass --param name=value',
    );
  });

  it('passes anything through for a job that declares no params', () => {
    expect(resolveParams(defineJob({ map: () => undefined }), { any: '1' }, 'mine')).toEqual({ any: '1' });
  });
});
