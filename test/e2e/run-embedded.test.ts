/**
 * End to end: spawn bin/gmr on temporary input trees with the embedded job server and local
 * workers, and compare with independent references (python3), at least 2 mappers and 2 reducers.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';
import { referenceWordcount } from '../helpers/reference.ts';

let dir: string;
let files: string[];
let expected: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-e2e-'));
  files = writeCorpus(join(dir, 'in'), 7, 600);
  expected = referenceWordcount(files);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('gmr run wordcount (embedded server, local workers)', () => {
  it('prints the same counts as an independent reference, sorted by word', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--workers', '2', '--reducers', '2', '--split-size', '3k', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(expected.split('\n').length).toBeGreaterThan(20);
  });

  it('gives identical output for split sizes from a few bytes to larger than the input', async () => {
    for (const size of ['37', '1000', '1m']) {
      const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--workers', '2', '--reducers', '3', '--split-size', size, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
    }
    // Split size 37 makes thousands of tiny tasks: 28 s alone, 49 s at load 15, over 60 s once.
  }, 240_000);

  it('commits part files and a _SUCCESS manifest with --output, and refuses to overwrite', async () => {
    const out = join(dir, 'out');
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '2k', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const entries = readdirSync(out).sort();
    expect(entries).toEqual(['_SUCCESS', '_history', 'part-00000', 'part-00001']);
    // Each part is sorted by word; together they hold exactly the reference counts.
    const parts = ['part-00000', 'part-00001'].map((p) => readFileSync(join(out, p), 'utf8'));
    for (const part of parts) {
      const words = part.split('\n').filter(Boolean).map((l) => Buffer.from(l.split('\t')[0] as string));
      const sorted = [...words].sort(Buffer.compare);
      expect(words).toEqual(sorted);
    }
    const union = parts.join('').split('\n').filter(Boolean).sort().join('\n');
    expect(union).toBe(expected.split('\n').filter(Boolean).sort().join('\n'));
    const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as Record<string, unknown>;
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary['ok']).toBe(true);
    expect(manifest['job']).toBe('wordcount');
    expect(manifest['reduceTasks']).toBe(2);
    expect(manifest['mapTasks']).toBeGreaterThanOrEqual(2);
    expect((manifest['inputs'] as unknown[]).length).toBe(2);
    const totalWords = expected.split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split('\t')[1]), 0);
    expect(manifest['outputRecords']).toBe(expected.split('\n').filter(Boolean).length);
    expect(totalWords).toBeGreaterThan(1000);

    const again = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--output', out, '--quiet']);
    expect(again.code).toBe(64);
    expect(again.stderr).toMatch(/not empty.*--overwrite/);
    const over = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--output', out, '--overwrite', '--workers', '2', '--reducers', '3', '--quiet']);
    expect(over.code, over.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', '_history', 'part-00000', 'part-00001', 'part-00002']);
  });

  it('runs the README command on the sample data in the repository', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', 'data/sample', '--quiet'], { cwd: REPO_ROOT });
    expect(r.code, r.stderr).toBe(0);
    const sampleFiles = [
      ...readdirSync(join(REPO_ROOT, 'data/sample/licenses')).map((f) => join(REPO_ROOT, 'data/sample/licenses', f)),
      join(REPO_ROOT, 'data/sample/logs/access.csv'),
    ];
    expect(r.stdout).toBe(referenceWordcount(sampleFiles));
  });

  it('fails a job whose mapper throws: retries, reports split and line, exit 1, no output', async () => {
    const input = join(dir, 'poison');
    mkdirSync(input, { recursive: true });
    const lines = Array.from({ length: 200 }, (_, i) => (i === 137 ? 'this line is POISON' : `line ${i} is fine`));
    writeFileSync(join(input, 'p.txt'), `${lines.join('\n')}\n`);
    const out = join(dir, 'poison-out');
    const job = join(REPO_ROOT, 'test/fixtures/jobs/poison.ts');
    const r = await runGmr(['run', job, '--input', input, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '500', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('POISON record');
    expect(r.stderr).toMatch(/p\.txt@\d+\+\d+/);
    expect(r.stderr).toContain('line 138');
    expect(r.stderr).toContain('3 attempts');
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
    expect(existsSync(out) ? readdirSync(out).filter((e) => e.startsWith('part-')) : []).toEqual([]);
  });

  it('runs a user module written in TypeScript from another folder, loaded as it is', async () => {
    const userDir = mkdtempSync(join(tmpdir(), 'gmr-user-'));
    try {
      writeFileSync(
        join(userDir, 'line-lengths.ts'),
        `interface Acc { n: number }\n` +
          `export default {\n` +
          `  description: 'count lines by length bucket',\n` +
          `  map(line: string, ctx: { emit(k: string, v: number): void }) { ctx.emit(line.length < 10 ? 'short' : 'long', 1); },\n` +
          `  combine: (a: number, b: number): number => a + b,\n` +
          `  reduce: (_k: string, values: number[]): number => values.reduce((a, b) => a + b, 0),\n` +
          `};\n` +
          `export type { Acc };\n`,
      );
      writeFileSync(join(userDir, 'in.txt'), 'short\nthis is a long line\nx\nanother long line here\n\n');
      const r = await runGmr(['run', './line-lengths.ts', '--input', 'in.txt', '--workers', '2', '--reducers', '2', '--split-size', '8', '--quiet'], { cwd: userDir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('long\t2\nshort\t3\n');
    } finally {
      rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('grep prints file line numbers like grep -n, whatever the split size (map-only)', async () => {
    const reference = execFileSync('grep', ['-n', 'café', 'a.txt', 'sub/b.txt'], { cwd: join(dir, 'in'), encoding: 'utf8' })
      .replace(/\r$/gm, '');
    expect(reference.split('\n').length).toBeGreaterThan(10);
    for (const size of ['41', '4k']) {
      const r = await runGmr(['run', 'grep', '--input', 'a.txt', '--input', 'sub/b.txt', '--param', 'pattern=café', '--workers', '2', '--split-size', size, '--quiet'], { cwd: join(dir, 'in') });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(reference);
    }
  });

  it('reads .gz files as one split each, next to plain files split by bytes', async () => {
    const input = join(dir, 'gz');
    mkdirSync(input, { recursive: true });
    const plain = readFileSync(files[0] as string);
    writeFileSync(join(input, 'a.txt.gz'), gzipSync(plain));
    writeFileSync(join(input, 'b.txt'), readFileSync(files[1] as string));
    const r = await runGmr(['run', 'wordcount', '--input', input, '--workers', '2', '--reducers', '2', '--split-size', '2k', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
    const summary = JSON.parse(r.stderr) as { tasks: Array<{ phase: string; input?: string }> };
    const gzTasks = summary.tasks.filter((t) => t.input?.includes('a.txt.gz'));
    expect(gzTasks).toHaveLength(1);
    expect(summary.tasks.filter((t) => t.input?.includes('b.txt')).length).toBeGreaterThan(1);
  });

  it('says which jobs exist when the name is wrong', async () => {
    const r = await runGmr(['run', 'wrodcount', '--input', join(dir, 'in'), '--quiet']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/Unknown job "wrodcount"; available: .*wordcount/);
  });
});
