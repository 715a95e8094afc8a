/**
 * Reducers that emit, per-task state, secondary sort and streamed values, through the task
 * runtimes with 2 map tasks and 2 partitions (test/helpers/run-local.ts). Expected outputs are written
 * by hand.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineJob, type MapContext } from 'gmr';
import { JobDefinitionError } from '../../../src/errors.ts';
import { normalizeJob } from '../../../src/mapreduce/job/job-steps.ts';
import { loadJob } from '../../../src/mapreduce/job/load-job.ts';
import { runLocal } from '../../helpers/run-local.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function input(text: string): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'gmr-emit-'));
  const file = path.join(dir, 'in.txt');
  await writeFile(file, text);
  return file;
}

const sortedLines = (text: string): string[] => text.split('\n').filter((l) => l !== '').sort();

describe('reducers that emit', () => {
  it('emit zero, one or many pairs under any key; a returned value is emit(key, value)', async () => {
    const file = await input('a 1\nb 2\nc 3\na 4\nb 5\nd 6\n');
    const job = defineJob<string, string, number, number>({
      map(line, ctx) {
        const [k, v] = line.split(' ');
        ctx.emit(k ?? '', Number(v));
      },
      reduce(key, values, ctx) {
        if (key === 'c') return undefined; // nothing
        if (key === 'd') return 60; // the short form
        for (const v of values) ctx.emit(`${key}-${v}`, v * 10); // one per value, other keys
        return undefined;
      },
    });
    const run = await runLocal(job, [file], { splitsPerFile: 2, partitions: 2 });
    expect(run.maps.length).toBe(2);
    expect(sortedLines(run.output)).toEqual(['a-1\t10', 'a-4\t40', 'b-2\t20', 'b-5\t50', 'd\t60']);
    // The key lists say how many lines each reduce call wrote, for the stdout merge.
    expect(sortedLines(run.keys.join(''))).toEqual(['1\t"d"', '2\t"a"', '2\t"b"']);
  });

  it('lets reduceTeardown emit what the task gathered (reducer_final), after every key', async () => {
    const file = await input('x\ny\nx\nz\nx\ny\n');
    const job = defineJob<string, string, number, number | string, string, undefined, { keys: string[] }>({
      map: (line, ctx) => ctx.emit(line, 1),
      reduceSetup: () => ({ keys: [] }),
      reduce(word, ones, _ctx, state) {
        state.keys.push(word);
        return ones.length;
      },
      reduceTeardown(ctx, state) {
        ctx.emit('(keys)', state.keys.join(','));
      },
    });
    const run = await runLocal(job, [file], { splitsPerFile: 2, partitions: 2 });
    const lines = run.parts.map((p) => p.split('\n').filter((l) => l !== ''));
    for (const part of lines) expect(part[part.length - 1]).toMatch(/^\(keys\)\t/);
    expect(sortedLines(run.output).filter((l) => !l.startsWith('('))).toEqual(['x\t3', 'y\t2', 'z\t1']);
    expect(run.keys.join('')).toMatch(/1\t\$\n/);
  });

  it('writes what a map-only job emits, the key alone when the value is left out', async () => {
    const file = await input('one\ntwo\nthree\n');
    const job = defineJob<string, string, undefined>({ map: (line, ctx) => ctx.emit(line.toUpperCase()) });
    const run = await runLocal(job, [file], { splitsPerFile: 2 });
    expect(run.output).toBe('ONE\nTWO\nTHREE\n');
  });
});

describe('per-task state', () => {
  it('hands what mapSetup returns to every map call and to mapTeardown of that task', async () => {
    const file = await input('a\nb\nc\nd\ne\nf\n');
    const job = defineJob({
      mapSetup: (ctx) => ({ task: ctx.task.index, lines: 0 }),
      map(_line: string, _ctx, state) {
        state.lines++;
      },
      mapTeardown(ctx, state) {
        ctx.emit(`task${state.task}`, state.lines);
      },
      reduce: (_k: string, n: number[]) => n.reduce((a, b) => a + b, 0),
    });
    const run = await runLocal(job, [file], { splitsPerFile: 2, partitions: 2 });
    expect(sortedLines(run.output)).toEqual(['task0\t3', 'task1\t3']);
  });
});

describe('secondary sort and streamed values', () => {
  const events = 'u2 30\nu1 10\nu1 2\nu2 4\nu1 1\nu2 100\nu1 20\n';
  /** `user time` lines as (user, time) pairs. */
  const userAndTime = (line: string, ctx: MapContext<string, number>): void => {
    const [user, t] = line.split(' ');
    ctx.emit(user ?? '', Number(t));
  };

  it('sortValues hands each reduce call its values in natural order, across map tasks', async () => {
    const file = await input(events);
    const job = defineJob({
      map: userAndTime,
      sortValues: true,
      reduce: (_user: string, times: number[]) => times.join(','),
    });
    const run = await runLocal(job, [file], { splitsPerFile: 3, partitions: 2 });
    expect(sortedLines(run.output)).toEqual(['u1\t1,2,10,20', 'u2\t4,30,100']);
  });

  it('reduceStream streams a key\'s values in that order; what the reducer leaves is skipped', async () => {
    const file = await input(events);
    const job = defineJob({
      map: userAndTime,
      sortValues: true,
      async reduceStream(_user: string, times: AsyncIterable<number>) {
        const firstTwo: number[] = [];
        for await (const t of times) {
          firstTwo.push(t);
          if (firstTwo.length === 2) break;
        }
        return firstTwo.join(',');
      },
    });
    const run = await runLocal(job, [file], { splitsPerFile: 3, partitions: 1, rechunk: 5 });
    expect(run.output).toBe('u1\t1,2\nu2\t4,30\n');
    expect(run.reduces[0]?.values).toBe(7);
  });
});

describe('steps', () => {
  it('hands step 2 the pairs step 1 emitted, typed, and formats only the last step', async () => {
    const file = await input('b\na\nb\nc\nb\na\n');
    const job = defineJob({
      steps: [
        { map: (line: string, ctx) => ctx.emit(line, 1), combine: (a: number, b: number) => a + b, reduce: (_w: string, n: number[]) => n.reduce((a, b) => a + b, 0) },
        {
          map([word, count]: [string, number], ctx) {
            expect(typeof count).toBe('number');
            ctx.emit(count, word);
          },
          reduce: (_count: number, words: string[]) => words.sort().join(' '),
        },
      ],
    });
    const run = await runLocal(job, [file], { splitsPerFile: 2, partitions: 2 });
    expect(sortedLines(run.output)).toEqual(['1\tc', '2\ta', '3\tb']);
  });

  it('passes pairs on through a step without map', async () => {
    const file = await input('k1 a\nk2 b\nk1 c\n');
    const job = defineJob({
      steps: [
        { map: (line: string, ctx) => ctx.emit(line.split(' ')[0] ?? '', line.split(' ')[1] ?? '') },
        { reduce: (_k: string, vs: string[]) => vs.sort().join('+') },
      ],
    });
    const run = await runLocal(job, [file], { splitsPerFile: 2, partitions: 2 });
    expect(sortedLines(run.output)).toEqual(['k1\ta+c', 'k2\tb']);
  });

  it('refuses, at load time, a step with neither map nor reduce', async () => {
    await expect(loadJob('test/fixtures/jobs/empty-step.ts')).rejects.toThrow(JobDefinitionError);
    await expect(loadJob('test/fixtures/jobs/empty-step.ts')).rejects.toThrow(
      /empty-step\.ts: step 2: expected a map \(or mapBytes\) or a reduce function \(a step needs at least one\), received neither \(keys: sortValues\)$/,
    );
    expect(() => normalizeJob({ steps: [] })).toThrow('Job definition: expected steps to be a non-empty array of steps, received an array of 0');
    expect(() => normalizeJob({ steps: [{ map: () => undefined, reducers: 0 }] })).toThrow(/step 1: expected reducers to be a whole number >= 1, received 0/);
  });
});
