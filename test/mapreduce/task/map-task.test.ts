import { describe, expect, it } from 'vitest';
import { defineJob } from 'gmr';
import type { JobDefinition } from 'gmr';
import { CHUNK_SIZE } from '../../../src/mapreduce/shuffle/encoding.ts';
import { runMapParts, runMapTask } from '../../../src/mapreduce/task/map-task.ts';
import type { MapTaskSpec, RecordSource } from '../../../src/mapreduce/task/map-task.ts';
import { TaskFailure } from '../../../src/mapreduce/task/task-failure.ts';
import { JobDefinitionError, TaskError } from '../../../src/errors.ts';

/** Records from an array; offsets as if each line were followed by '\n' (ASCII-sized is enough here). */
function arraySource(lines: string[], baseOffset = 0): RecordSource {
  return async (onRecord, onProgress) => {
    let offset = baseOffset;
    lines.forEach((line, i) => {
      onRecord(line, { line: i + 1, offset });
      offset += Buffer.byteLength(line) + 1;
    });
    onProgress?.(offset - baseOffset);
    return { records: lines.length, bytes: offset - baseOffset };
  };
}

function spec(overrides: Partial<MapTaskSpec> = {}): MapTaskSpec {
  return { job: 'j', index: 3, partitions: 2, params: {}, split: { path: 'in/a.txt', offset: 0, length: 1000 }, ...overrides };
}

async function run<Rec, K, V, Out>(job: JobDefinition<Rec, K, V, Out>, lines: string[], s: MapTaskSpec = spec()) {
  const chunks = new Map<number, Buffer[]>();
  const summary = await runMapTask(job, s, arraySource(lines, s.split.offset), (p, chunk) => {
    chunks.set(p, [...(chunks.get(p) ?? []), chunk]);
  });
  const parts = new Map<number, string[]>();
  for (const [p, list] of chunks) parts.set(p, Buffer.concat(list).toString('utf8').split('\n').slice(0, -1));
  return { summary, parts };
}

/** FNV-1a 32 via BigInt, written independently of encoding.ts. */
function fnv(s: string): number {
  let h = 2166136261n;
  for (const b of Buffer.from(s)) h = ((h ^ BigInt(b)) * 16777619n) & 0xffffffffn;
  return Number(h);
}

const counting = defineJob<string, unknown, number>({
  map(line, ctx) {
    for (const word of line.split(' ')) {
      if (word === '') continue;
      ctx.emit(/^\d+$/.test(word) ? Number(word) : word === 'obj' ? { o: [1, 'x'] } : word, 1);
    }
  },
  combine: (a, b) => a + b,
  reduce: (_k, vs) => vs.reduce((a, b) => a + b, 0),
});

describe('runMapTask with reduce', () => {
  const lines = ['b a 😀 \uffff 10 9', 'a obj é', '', 'a b obj 10'];

  it('writes one combined partial line per key, routed by FNV-1a and sorted in natural key order', async () => {
    const { summary, parts } = await run(counting, lines);
    const all = [...(parts.get(0) ?? []), ...(parts.get(1) ?? [])];
    const expected = new Map([['"a"', 3], ['"b"', 2], ['"😀"', 1], ['"\uffff"', 1], ['10', 2], ['9', 1], ['{"o":[1,"x"]}', 2], ['"é"', 1]]);
    expect(new Map(all.map((l) => [l.split('\t')[0], Number(l.split('\t')[1])]))).toEqual(expected);
    expect(all.length).toBe(expected.size);
    for (const [p, part] of parts) {
      const keys = part.map((l) => l.split('\t')[0] as string);
      for (const k of keys) expect(fnv(k) % 2).toBe(p);
      // Natural order (docs/WIRE.md): numbers numerically, then strings by UTF-8 bytes, then objects.
      const natural = ['9', '10', '"a"', '"b"', '"é"', '"\uffff"', '"😀"', '{"o":[1,"x"]}'];
      expect(keys).toEqual(natural.filter((k) => keys.includes(k)));
    }
    expect(summary).toMatchObject({ records: 4, emitted: 13, bytesRead: 39, counters: {} });
    expect(summary.partitionRecords.reduce((a, b) => a + b)).toBe(expected.size);
    expect(summary.partitionBytes[0]).toBe(Buffer.byteLength((parts.get(0) ?? []).map((l) => `${l}\n`).join('')));
  });

  it('sorts combined string keys in natural order (their UTF-8 bytes), prefixes, escapes and surrogates included', async () => {
    const keys = ['ab', 'ab!', 'ab ', 'ab"', 'ab\\', 'a\tb', 'a\u0001', 'abc', '', 'a😀', 'a\uffff', 'a\ue000', 'Z', 'é'];
    for (const withSurrogate of [false, true]) {
      const used = withSurrogate ? keys : keys.filter((k) => !/[\ud800-\udfff]/.test(k));
      const job = defineJob<string, string, number>({
        map: () => {},
        teardown: (ctx) => {
          if ('emit' in ctx) for (const k of used) ctx.emit(k, k.length);
        },
        combine: (a, b) => a + b,
        reduce: (_k, vs) => vs[0],
      });
      const { parts } = await run(job, ['x'], spec({ partitions: 1 }));
      const got = parts.get(0) ?? [];
      const expected = used
        .slice()
        .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
        .map((k) => `${JSON.stringify(k)}\t${k.length}`);
      expect(got).toEqual(expected);
    }
  });

  it('writes every pair as its own line without a combiner, equal keys adjacent in emit order', async () => {
    const job = defineJob<string, string, string>({
      map: (line, ctx) => ctx.emit(line.split(':')[0] ?? '', line),
      reduce: (_k, vs) => vs.join(),
    });
    const { parts } = await run(job, ['k:1', 'j:1', 'k:2', 'k:3', 'j:2'], spec({ partitions: 1 }));
    expect(parts.get(0)).toEqual(['"j"\t"j:1"', '"j"\t"j:2"', '"k"\t"k:1"', '"k"\t"k:2"', '"k"\t"k:3"']);
  });

  it('keeps chunks near 1 MiB and never builds one giant buffer', async () => {
    const job = defineJob<string, string, string>({
      map: (line, ctx) => {
        for (let i = 0; i < 20000; i++) ctx.emit(`${line}-${i}`, 'v'.repeat(100));
      },
      reduce: (_k, vs) => vs[0],
    });
    const chunks: Buffer[] = [];
    await runMapTask(job, spec({ partitions: 1 }), arraySource(['a', 'b']), (_p, c) => chunks.push(c));
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(CHUNK_SIZE);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(4 * 1000 * 1000);
  });

  it('lets teardown emit and reports counters and the latest status', async () => {
    const statuses: string[] = [];
    const job = defineJob<string, string, number>({
      map(line, ctx) {
        ctx.count('lines');
        ctx.count('chars', line.length);
        ctx.status(`at ${ctx.position.line}`);
      },
      teardown(ctx) {
        if ('emit' in ctx) ctx.emit('total', 7);
      },
      reduce: (_k, vs) => vs[0],
    });
    const chunks: Buffer[] = [];
    const summary = await runMapTask(job, spec({ partitions: 1, lineBase: 10 }), arraySource(['ab', 'cde']), (_p, c) => chunks.push(c), {
      onStatus: (m) => statuses.push(m),
    });
    expect(Buffer.concat(chunks).toString()).toBe('"total"\t7\n');
    expect(summary.counters).toEqual({ lines: 2, chars: 5 });
    expect(summary.status).toBe('at 12');
    expect(statuses).toEqual(['at 11', 'at 12']);
  });

  it('fails with the job, split, line and byte when map throws', async () => {
    const job = defineJob<string, string, number>({
      map(line) {
        if (line === 'bad') throw new RangeError('boom');
      },
      reduce: () => 1,
    });
    const s = spec({ split: { path: 'in/a.txt', offset: 500, length: 100 }, lineBase: 40 });
    const err = await run(job, ['ok', 'fine', 'bad', 'never'], s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect(err).toBeInstanceOf(TaskError);
    const f = err as TaskFailure;
    expect(f.message).toBe('j map task 3 failed on in/a.txt@500+100, line 43 (byte 508): boom');
    expect(f).toMatchObject({ code: 'GMR_ERR_TASK', job: 'j', phase: 'map', index: 3, path: 'in/a.txt', offset: 500, length: 100, line: 43, recordOffset: 508 });
    expect(f.cause).toBeInstanceOf(RangeError);
  });

  it('reports the failure even when the source swallows the callback error', async () => {
    const job = defineJob({ map: () => { throw new Error('nope'); }, reduce: () => 1 });
    const swallowing: RecordSource = async (onRecord) => {
      for (let i = 0; i < 3; i++) {
        try {
          onRecord('x', { line: i + 1, offset: i * 2 });
        } catch {
          // a careless source
        }
      }
      return { records: 3, bytes: 6 };
    };
    await expect(runMapTask(job, spec(), swallowing, () => undefined)).rejects.toThrow('line 1 (byte 0): nope');
  });

  it('fails on a key JSON cannot encode, and on a partition out of range', async () => {
    const undef = defineJob<string, unknown, number>({ map: (_l, ctx) => ctx.emit(undefined, 1), reduce: () => 1 });
    await expect(run(undef, ['x'])).rejects.toThrow(/line 1 \(byte 0\): expected a JSON-encodable key, received undefined/);
    const badPartition = defineJob<string, string, number>({ map: (l, ctx) => ctx.emit(l, 1), reduce: () => 1, partition: () => 5 });
    await expect(run(badPartition, ['x'])).rejects.toThrow(/while partitioning key "x": expected partition\(\) to return an integer in \[0, 2\), received 5/);
  });
});

describe('runMapTask without reduce (map-only)', () => {
  it('formats each emit right away, in record order, into partition 0', async () => {
    const job = defineJob<string, string, number>({
      map: (line, ctx) => ctx.emit(`${ctx.split.path}:${ctx.position.line}`, line.length),
    });
    const { parts, summary } = await run(job, ['zz', 'a', 'mmm'], spec({ partitions: 5 }));
    expect([...parts.keys()]).toEqual([0]);
    expect(parts.get(0)).toEqual(['in/a.txt:1\t2', 'in/a.txt:2\t1', 'in/a.txt:3\t3']);
    expect(summary.partitionRecords).toEqual([3]);
  });
});

describe('input formats', () => {
  it('csv: the first line of a split at offset 0 is the header, records are objects', async () => {
    const seen: unknown[] = [];
    const job = defineJob<Record<string, string>, string, number>({ input: 'csv', map: (r) => void seen.push({ ...r }) });
    await run(job, ['name,"note, quoted"', 'a,"x ""y"""', 'b,', '']);
    expect(seen).toEqual([{ name: 'a', 'note, quoted': 'x "y"' }, { name: 'b', 'note, quoted': '' }]);
  });

  it('csv: a split further in takes the header from the spec, and needs it', async () => {
    const seen: unknown[] = [];
    const job = defineJob<Record<string, string>, string, number>({ input: () => 'csv', map: (r) => void seen.push({ ...r }) });
    const s = spec({ split: { path: 'd.csv', offset: 20, length: 10 }, header: '\ufeffk,v' });
    await run(job, ['1,2'], s);
    expect(seen).toEqual([{ k: '1', v: '2' }]);
    const noHeader = spec({ split: { path: 'd.csv', offset: 20, length: 10 } });
    await expect(run(job, ['1,2'], noHeader)).rejects.toThrow(/line 1 \(byte 20\): csv input: expected the header line/);
  });

  it('csv: wrong field count and unterminated quotes fail with the position', async () => {
    const job = defineJob<Record<string, string>, string, number>({ input: 'csv', map: () => undefined });
    await expect(run(job, ['a,b', '1,2,3'])).rejects.toThrow(/line 2 \(byte 4\): csv: expected 2 fields \(as in the header\), received 3/);
    await expect(run(job, ['a,b', '"1,2'])).rejects.toThrow(/line 2 \(byte 4\): unterminated quoted field/);
  });

  it('json: parses each non-empty line; a parse error is a TaskFailure', async () => {
    const seen: unknown[] = [];
    const job = defineJob<unknown, string, number>({ input: 'json', map: (r) => void seen.push(r) });
    const { summary } = await run(job, ['{"a":1}', '', '  ', '[2]', '"s"']);
    expect(seen).toEqual([{ a: 1 }, [2], 's']);
    expect(summary.records).toBe(3);
    const err = await run(job, ['{"a":1}', '{oops'], spec()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).message).toMatch(/line 2 \(byte 8\): expected a JSON value, received "\{oops"/);
  });
});

describe('mapBytes (the byte-level map)', () => {
  /** The bytes of each line as its own block would be too easy: two blocks of several lines. */
  const blockSource = (text: string, cut: number, base = 0) => ({
    lines: arraySource(text.split('\n').slice(0, -1), base),
    blocks: async (onBlock: (b: Buffer, s: number, e: number, o: number) => void) => {
      const bytes = Buffer.from(`xx${text}yy`, 'utf8'); // ranges inside a larger buffer
      onBlock(bytes, 2, 2 + cut, base);
      onBlock(bytes, 2 + cut, bytes.length - 2, base + cut);
      return { records: 2, bytes: text.length };
    },
  });

  it('gets byte ranges of whole lines with their file offsets; summary records count lines, not blocks', async () => {
    const seen: string[] = [];
    const job = defineJob<string, string, number>({
      mapBytes(bytes, start, end, ctx) {
        seen.push(`${ctx.position.offset}:${bytes.toString('utf8', start, end)}`);
        for (const line of bytes.toString('utf8', start, end).split('\n')) if (line !== '') ctx.emit(line, 1);
      },
      combine: (a, b) => a + b,
      reduce: (_k, vs) => vs.length,
    });
    const chunks: Buffer[] = [];
    const summary = await runMapTask(job, spec({ partitions: 1, split: { path: 'a', offset: 100, length: 12 } }), blockSource('b\nb\r\nc\nd\n', 5, 100), (_p, c) => chunks.push(c));
    expect(seen).toEqual(['100:b\nb\r\n', '105:c\nd\n']);
    expect(summary.records).toBe(4);
    expect(Buffer.concat(chunks).toString()).toBe('"b"\t1\n"b\\r"\t1\n"c"\t1\n"d"\t1\n');
  });

  it('counts a last line without its newline as a record', async () => {
    const job = defineJob({ mapBytes: () => {} });
    const summary = await runMapTask(job, spec(), blockSource('a\nb\nc', 2, 0), () => {});
    expect(summary.records).toBe(3);
  });

  it('without a block source, gets each line as its own block (re-encoded, with its newline)', async () => {
    const seen: string[] = [];
    const job = defineJob({ mapBytes: (bytes: Buffer, start: number, end: number) => void seen.push(bytes.toString('utf8', start, end)) });
    await run(job, ['é', 'x']);
    expect(seen).toEqual(['é\n', 'x\n']);
  });

  it('a throw fails the task naming the block, not a record', async () => {
    const job = defineJob({
      mapBytes: () => {
        throw new Error('boom');
      },
    });
    const err = await runMapTask(job, spec(), blockSource('a\nb\n', 2, 0), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).message).toBe('j map task 3 failed on in/a.txt@0+1000 in mapBytes, block at byte 0: boom');
    expect((err as TaskFailure).recordOffset).toBeUndefined();
  });

  it('serves lines input only: csv uses map when there is one, else fails saying so', async () => {
    const both = defineJob<Record<string, string>, string, number>({
      input: 'csv',
      map: (rec, ctx) => ctx.emit(rec['k'] ?? '', 1),
      mapBytes: () => {
        throw new Error('not for csv');
      },
    });
    const { parts } = await run(both, ['k', 'a', 'b']);
    expect([...parts.values()].flat().sort()).toEqual(['a\t1', 'b\t1']);
    const bytesOnly = defineJob({ input: 'csv', mapBytes: () => {} });
    await expect(run(bytesOnly, ['k', 'a'])).rejects.toThrow(/choosing the input format: expected a map function for csv input \(mapBytes reads 'lines' input only\)/);
  });

  it('a definition with neither map, mapBytes nor reduce is a JobDefinitionError', async () => {
    await expect(run({} as JobDefinition, ['a'])).rejects.toThrow(JobDefinitionError);
  });
});

describe('ctx.taskBytes', () => {
  it('is every part\'s bytes for a grouped task, and the split\'s for a task of one', async () => {
    const seen: Array<[string, string, number]> = [];
    const job = defineJob<string, string, number>({
      mapHooks: 'per-task',
      mapSetup: (ctx) => {
        seen.push(['setup', ctx.split.path, ctx.taskBytes]);
      },
      map: (line, ctx) => ctx.emit(line, 1),
      mapTeardown: (ctx) => {
        seen.push(['teardown', ctx.split.path, ctx.taskBytes]);
      },
      combine: (a, b) => a + b,
      reduce: (_k, vs) => vs.reduce((a, b) => a + b, 0),
    });
    const part = (path: string, length: number, lines: string[]) => ({ split: { path, offset: 0, length }, source: arraySource(lines) });
    await runMapParts(job, { job: 'j', index: 0, partitions: 2, params: {} }, [part('/a', 4, ['one']), part('/b', 6, ['three']), part('/c', 3, ['ab'])], () => {});
    expect(seen).toEqual([
      ['setup', '/a', 13],
      ['teardown', '/c', 13],
    ]);
    seen.length = 0;
    await run(job, ['x'], spec({ split: { path: 'in/a.txt', offset: 0, length: 1000 } }));
    expect(seen).toEqual([
      ['setup', 'in/a.txt', 1000],
      ['teardown', 'in/a.txt', 1000],
    ]);
  });
});
