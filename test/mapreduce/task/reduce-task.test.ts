import { describe, expect, it } from 'vitest';
import { defineJob } from 'gmr';
import { runReduceTask } from '../../../src/mapreduce/task/reduce-task.ts';
import type { ReduceTaskSpec } from '../../../src/mapreduce/task/reduce-task.ts';
import { TaskFailure } from '../../../src/mapreduce/task/task-failure.ts';
import { TaskError } from '../../../src/errors.ts';

const SPEC: ReduceTaskSpec = { job: 'j', index: 1, partitions: 2, params: {} };

async function* chunks(list: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of list) yield c;
}

/** The run's bytes cut into chunks at the given byte positions. */
function cut(text: string, at: number[]): AsyncGenerator<Buffer> {
  const buf = Buffer.from(text, 'utf8');
  const list: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, buf.length]) {
    list.push(buf.subarray(prev, p));
    prev = p;
  }
  return chunks(list);
}

const collect = defineJob<string, unknown, unknown, string>({
  map: () => undefined,
  reduce: (key, values) => `${JSON.stringify(key)}=${JSON.stringify(values)}`,
  format: (_key, out) => out,
});

async function reduce(runs: AsyncIterable<Buffer>[]): Promise<string> {
  const out: Buffer[] = [];
  await runReduceTask(collect, SPEC, runs, (c) => out.push(c));
  return Buffer.concat(out).toString('utf8');
}

// Sorted by UTF-8 bytes of the encoded key: "a" < "b" < "é" < "\uffff" < "😀" < {…}.
const RUN_0 = '"a"\t1\n"b"\t[1,"x"]\n"b"\t2\n"\uffff"\t"u"\n"😀"\t"s"\n';
const RUN_1 = '"a"\t3\n"é"\tnull\n"😀"\t{"t":"\\t"}\n{"k":1}\t4\n';
const EXPECTED = [
  '"a"=[1,3]',
  '"b"=[[1,"x"],2]',
  '"é"=[null]',
  '"\uffff"=["u"]',
  '"😀"=["s",{"t":"\\t"}]',
  '{"k":1}=[4]',
  '',
].join('\n');

describe('runReduceTask', () => {
  it('merges sorted runs, grouping equal keys across runs in run order', async () => {
    expect(await reduce([cut(RUN_0, []), cut(RUN_1, [])])).toBe(EXPECTED);
  });

  it('gives the same result whatever the chunk boundaries (every byte offset of each run)', async () => {
    const n0 = Buffer.byteLength(RUN_0);
    const n1 = Buffer.byteLength(RUN_1);
    for (let i = 0; i <= n0; i++) {
      expect(await reduce([cut(RUN_0, [i]), cut(RUN_1, [Math.min(i, n1)])])).toBe(EXPECTED);
    }
    const everyByte0 = Array.from({ length: n0 - 1 }, (_, i) => i + 1);
    const everyByte1 = Array.from({ length: n1 - 1 }, (_, i) => i + 1);
    expect(await reduce([cut(RUN_0, everyByte0), cut(RUN_1, everyByte1)])).toBe(EXPECTED);
  });

  it('handles empty runs and no runs', async () => {
    expect(await reduce([cut('', []), cut(RUN_1, []), chunks([])])).toBe(
      '"a"=[3]\n"é"=[null]\n"😀"=[{"t":"\\t"}]\n{"k":1}=[4]\n',
    );
    expect(await reduce([])).toBe('');
  });

  it('skips keys whose reduce returns undefined and counts into the summary', async () => {
    const job = defineJob<string, string, number>({
      map: () => undefined,
      reduce(key, values, ctx) {
        ctx.count('seen', values.length);
        ctx.status(`key ${key}`);
        return key === 'b' ? undefined : values.reduce((a, b) => a + b, 0);
      },
    });
    const out: Buffer[] = [];
    const summary = await runReduceTask(job, SPEC, [cut('"a"\t1\n"b"\t2\n', []), cut('"a"\t5\n"c"\t1\n', [3])], (c) => out.push(c));
    expect(Buffer.concat(out).toString()).toBe('a\t6\nc\t1\n');
    expect(summary).toEqual({ keys: 3, values: 4, outputRecords: 2, outputBytes: 8, counters: { seen: 4 }, status: 'key c' });
  });

  it('fails with a TaskFailure naming the job, task and key when reduce throws', async () => {
    const job = defineJob<string, string, number>({
      map: () => undefined,
      reduce(key) {
        if (key === 'b') throw new TypeError('bad key');
        return 1;
      },
    });
    const err = await runReduceTask(job, SPEC, [cut(RUN_0, [])], () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).message).toBe('j reduce task 1 failed on key "b": bad key');
    expect(err).toMatchObject({ phase: 'reduce', index: 1, key: '"b"', job: 'j' });
    expect((err as TaskFailure).cause).toBeInstanceOf(TypeError);
  });

  it('rejects malformed partial lines, saying what was expected and received', async () => {
    await expect(reduce([cut('no tab here\n', [])])).rejects.toThrow(
      'j reduce task 1: malformed partial line in run 0: expected <json>\\t<json>, received "no tab here"',
    );
    await expect(reduce([cut('"a"\t{oops\n', [])])).rejects.toThrow(/malformed a partial line: expected <json>\\t<json>, received "\\"a\\"\\t\{oops"/);
    const long = `${'x'.repeat(200)}\n`;
    const err = (await reduce([cut(long, [])]).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.message).toContain(`received "${'x'.repeat(80)}"`);
    await expect(reduce([cut('"a"\t1', [])])).rejects.toThrow(/run 0 ends inside a line/);
    await expect(reduce([cut('"b"\t1\n"a"\t1\n', [])])).rejects.toThrow(/run 0 is not sorted: expected keys in natural order \(docs\/WIRE.md\), received "a" after "b"/);
  });

  it('refuses a map-only job', async () => {
    const job = defineJob({ map: () => undefined });
    await expect(runReduceTask(job, SPEC, [], () => undefined)).rejects.toThrow(/expected step 1 of 1 to have a reduce function \(a map-only step has no reduce phase\)/);
  });
});
