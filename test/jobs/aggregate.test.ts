import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import aggregate from '../../jobs/aggregate.ts';
import { TaskFailure } from '../../src/mapreduce/task/task-failure.ts';
import { resolveParams } from '../../src/mapreduce/job/load-job.ts';
import { mulberry32 } from '../helpers/random.ts';
import { parseTsv, runLocal } from '../helpers/run-local.ts';
import { tempFiles } from '../helpers/corpus.ts';

/** Reference: Python's csv and json modules, its own float parsing and formatting. */
const PYTHON_AGGREGATE = `
import csv, json, sys, math
by, sumf, minf, maxf, meanf = [a if a != '-' else None for a in sys.argv[1:6]]
groups = {}
non_numeric = 0
def num(v):
    global non_numeric
    if isinstance(v, bool) or v is None:
        non_numeric += 1; return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            x = float(v.strip())
            if math.isfinite(x) and v.strip() != '': return x
        except ValueError:
            pass
    non_numeric += 1
    return None
def key_text(v):
    return v if isinstance(v, str) else json.dumps(v)
def records(path):
    if path.endswith('.csv'):
        with open(path, newline='', encoding='utf-8') as f:
            yield from csv.DictReader(f)
    else:
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip(): yield json.loads(line)
for path in sys.argv[6:]:
    for r in records(path):
        g = groups.setdefault(key_text(r.get(by)), [0, 0.0, None, None, 0.0, 0])
        g[0] += 1
        if sumf:
            x = num(r.get(sumf)); g[1] += x if x is not None else 0
        if minf:
            x = num(r.get(minf))
            if x is not None: g[2] = x if g[2] is None else min(g[2], x)
        if maxf:
            x = num(r.get(maxf))
            if x is not None: g[3] = x if g[3] is None else max(g[3], x)
        if meanf:
            x = num(r.get(meanf))
            if x is not None: g[4] += x; g[5] += 1
def dec(x):
    s = ('%.6f' % x).rstrip('0').rstrip('.')
    return '0' if s == '-0' else s
def exact(x):
    return str(int(x)) if x.is_integer() else repr(x)
for k, g in groups.items():
    cols = [k, str(g[0])]
    if sumf: cols.append(dec(g[1]))
    if minf: cols.append('' if g[2] is None else exact(g[2]))
    if maxf: cols.append('' if g[3] is None else exact(g[3]))
    if meanf: cols.append('' if g[5] == 0 else dec(g[4] / g[5]))
    print('\\t'.join(cols))
print('non_numeric\\t%d' % non_numeric, file=sys.stderr)
`;

function pythonAggregate(fields: { by: string; sum?: string; min?: string; max?: string; mean?: string }, files: string[]) {
  const args = [fields.by, fields.sum ?? '-', fields.min ?? '-', fields.max ?? '-', fields.mean ?? '-'];
  const result = spawnSync('python3', ['-c', PYTHON_AGGREGATE, ...args, ...files], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return { table: parseTsv(result.stdout), nonNumeric: Number(parseTsv(result.stderr).get('non_numeric')) };
}

function generateCsv(seed: number, rows: number): string {
  const random = mulberry32(seed);
  const cities = ['Paris', 'Zürich', '"Quoted, City"', 'São Paulo', 'Oslo', 'x'];
  const lines = ['city,amount,price,note'];
  for (let i = 0; i < rows; i++) {
    const city = cities[Math.floor(random() * cities.length)] as string;
    const cityField = city.startsWith('"') ? `"${city.slice(1, -1).replace(/"/g, '""')} ""q"""` : city;
    const amount = random() < 0.1 ? 'n/a' : random() < 0.05 ? '' : String(Math.floor(random() * 1000) - 200);
    const price = (Math.floor(random() * 100000) / 100).toFixed(2);
    lines.push(`${cityField},${amount},${price},"note, with comma"`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function generateJsonl(seed: number, rows: number): string {
  const random = mulberry32(seed);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const r: Record<string, unknown> = { user: ['ann', 'bob', 'çelik', 7, null][Math.floor(random() * 5)] };
    if (random() < 0.9) r['ms'] = random() < 0.5 ? Math.floor(random() * 5000) : String(Math.floor(random() * 5000));
    if (random() < 0.05) r['ms'] = 'slow';
    lines.push(JSON.stringify(r));
    if (random() < 0.05) lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

let cleanup: string | undefined;
afterEach(async () => {
  if (cleanup !== undefined) await rm(cleanup, { recursive: true, force: true });
  cleanup = undefined;
});

describe('aggregate', () => {
  it('groups CSV like a Python reference (count, sum, min, max, mean), over splits without the header', async () => {
    const { dir, paths } = await tempFiles({ 'a.csv': generateCsv(21, 700), 'b.csv': generateCsv(22, 300) });
    cleanup = dir;
    const fields = { by: 'city', sum: 'amount', min: 'price', max: 'amount', mean: 'price' };
    const params = resolveParams(aggregate, fields, 'aggregate');
    const run = await runLocal(aggregate, paths, { splitsPerFile: 3, partitions: 2, params });
    expect(run.maps.length).toBe(6);
    const reference = pythonAggregate(fields, paths);
    expect(reference.table.get('Quoted, City "q"')).toBeDefined();
    expect(parseTsv(run.output)).toEqual(reference.table);
    expect(reference.nonNumeric).toBeGreaterThan(0);
    expect(run.counters['aggregate.non_numeric']).toBe(reference.nonNumeric);
  });

  it('groups JSON lines like a Python reference, counting non-numeric values', async () => {
    const { dir, paths } = await tempFiles({ 'a.jsonl': generateJsonl(31, 500), 'b.ndjson': generateJsonl(32, 200) });
    cleanup = dir;
    const fields = { by: 'user', mean: 'ms', sum: 'ms' };
    const run = await runLocal(aggregate, paths, { params: resolveParams(aggregate, fields, 'aggregate') });
    const reference = pythonAggregate(fields, paths);
    expect(parseTsv(run.output)).toEqual(reference.table);
    expect(parseTsv(run.output).get('null')).toBeDefined();
    expect(run.counters['aggregate.non_numeric']).toBe(reference.nonNumeric);
  });

  it('only counts when no numeric column is asked for; format=json overrides the extension', async () => {
    const { dir, paths } = await tempFiles({ 'data.txt': '{"k":"a"}\n{"k":"b"}\n{"k":"a"}\n' });
    cleanup = dir;
    const run = await runLocal(aggregate, paths, { params: resolveParams(aggregate, { by: 'k', format: 'json' }, 'aggregate') });
    expect(parseTsv(run.output)).toEqual(new Map([['a', '2'], ['b', '1']]));
  });

  it('fails a CSV record with the wrong number of fields, naming its line', async () => {
    const { dir, paths } = await tempFiles({ 'bad.csv': 'a,b\n1,2\n3,4\n5\n6,7\n' });
    cleanup = dir;
    const failure = await runLocal(aggregate, paths, { splitsPerFile: 1, params: { by: 'a' } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    expect((failure as TaskFailure).line).toBe(4);
    expect((failure as TaskFailure).message).toMatch(/line 4 \(byte 12\): csv: expected 2 fields \(as in the header\), received 1$/);
  });
});
