/**
 * MapContext.partials: a map task may write its partial records itself (wordcount does, from its
 * table's bytes); the lines land in the partitions named, counted, and nothing else is written; a
 * task that also emits, or names a partition out of range, fails; the sink is there only where
 * the runtime's own partial writing would be the same thing (a reduce, no partition(), no sortValues).
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from 'gmr';
import type { JobDefinition, MapContext } from 'gmr';
import { runMapTask } from '../../../src/mapreduce/task/map-task.ts';
import type { MapTaskSpec } from '../../../src/mapreduce/task/map-task.ts';
import { TaskFailure } from '../../../src/mapreduce/task/task-failure.ts';

const spec: MapTaskSpec = { job: 'j', index: 1, partitions: 2, params: {}, split: { path: 'in/a.txt', offset: 0, length: 100 } };

async function run<Rec, K, V, Out>(job: JobDefinition<Rec, K, V, Out>, lines: string[]) {
  const chunks = new Map<number, Buffer[]>();
  const summary = await runMapTask(
    job,
    spec,
    async (onRecord) => {
      lines.forEach((line, i) => onRecord(line, { line: i + 1, offset: 0 }));
      return { records: lines.length, bytes: 0 };
    },
    (p, chunk) => chunks.set(p, [...(chunks.get(p) ?? []), chunk]),
  );
  const parts = new Map<number, string>();
  for (const [p, list] of chunks) parts.set(p, Buffer.concat(list).toString('utf8'));
  return { summary, parts };
}

/** Writes the given lines to partition 0 and 1 at teardown; `also` emits a pair too. */
function writer(also: boolean, partition = 1) {
  return defineJob<string, string, number>({
    map: (line, ctx) => {
      if (also) ctx.emit(line, 1);
    },
    mapTeardown: (ctx) => {
      ctx.partials?.write(0, Buffer.from('"a"\t2\n"b"\t1\n'));
      ctx.partials?.write(partition, Buffer.from('"c"\t5\n'));
      ctx.partials?.write(0, Buffer.from('"d"\t1\n'));
    },
    combine: (a, b) => a + b,
    reduce: (_k, vs) => vs.reduce((a, b) => a + b, 0),
  });
}

describe('MapContext.partials', () => {
  it('writes the lines as they are into the partitions named, and counts them', async () => {
    const { summary, parts } = await run(writer(false), ['x', 'y']);
    expect(parts).toEqual(
      new Map([
        [0, '"a"\t2\n"b"\t1\n"d"\t1\n'],
        [1, '"c"\t5\n'],
      ]),
    );
    expect(summary.partitionRecords).toEqual([3, 1]);
    expect(summary.records).toBe(2);
  });

  it('fails a task that writes partials and emits too, and a partition out of range', async () => {
    const both = run(writer(true), ['x']);
    await expect(both).rejects.toBeInstanceOf(TaskFailure);
    await expect(both).rejects.toThrow('expected a task that writes ctx.partials to emit nothing, but it emitted 1 pair');
    await expect(run(writer(false, 2), ['x'])).rejects.toThrow('expected ctx.partials.write to get a partition in [0, 2), received 2');
  });

  it('is there only with a reduce, without partition() and without sortValues', async () => {
    const seen: boolean[] = [];
    const note = (ctx: MapContext<string, number>): void => {
      seen.push(ctx.partials !== undefined);
    };
    const reduce = (_k: string, vs: number[]): number => vs.length;
    await run(defineJob<string, string, number>({ map: () => {}, mapTeardown: note, reduce }), ['x']);
    await run(defineJob<string, string, number>({ map: () => {}, mapTeardown: note }), ['x']);
    await run(defineJob<string, string, number>({ map: () => {}, mapTeardown: note, reduce, partition: () => 0 }), ['x']);
    await run(defineJob<string, string, number>({ map: () => {}, mapTeardown: note, reduce, sortValues: true }), ['x']);
    expect(seen).toEqual([true, false, false, false]);
  });
});
