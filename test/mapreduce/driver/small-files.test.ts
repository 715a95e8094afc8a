/**
 * Small files grouped into one map task (issue 15, per-task cost; Hadoop's CombineFileInputFormat):
 * consecutive files that fit a split share one task up to the split size, and each file is still
 * its own split for the job: invertedindex names the right file for every word, grep the right
 * file and line, wordcount counts the same; a job with mapHooks 'per-task' keeps one state across
 * a task's files. References from perl, grep and awk; 2 workers, 2 reducers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeJob } from '../../../src/mapreduce/job/job-steps.ts';
import { defaultSplitSize, planSplits } from '../../../src/mapreduce/driver/splits.ts';
import { decodeMapHeader } from '../../../src/mapreduce/shuffle/task-headers.ts';
import type { InputFile } from '../../../src/mapreduce/driver/input-files.ts';
import { AdminClient } from '../../../src/client/admin-client.ts';
import { generateText } from '../../helpers/corpus.ts';
import { mulberry32 } from '../../helpers/random.ts';
import { startGearmand } from '../../helpers/gearmand.ts';
import { REPO_ROOT, runGmr, spawnGmr, userEnv } from '../../helpers/gmr-cli.ts';

const file = (path: string, size: number): InputFile => ({ path, size, mtimeMs: 0, dev: 0, ino: 0, ctimeMs: 0, compressed: path.endsWith('.gz') });

describe('planSplits with groupSmallFiles', () => {
  const files = [file('/a', 10), file('/b', 10), file('/c', 10), file('/big', 60), file('/d', 5), file('/e', 0), file('/f.gz', 20)];

  it('shares consecutive files that fit among as many splits as their bytes need, balanced; a larger file is cut as before and ends the group', () => {
    const splits = planSplits(files, { splitSize: 25, workers: 2, groupSmallFiles: true });
    const whole = (path: string, size: number): object => ({ path, offset: 0, length: size, compressed: path.endsWith('.gz'), fileSize: size });
    // /a /b /c: 30 bytes need 2 splits of 15; each file goes where its middle byte falls (5, 15, 25).
    expect(splits).toEqual([
      { index: 0, path: '/a', offset: 0, length: 10, compressed: false, fileSize: 10 },
      { index: 1, path: '/b', offset: 0, length: 20, compressed: false, fileSize: 10, files: [whole('/b', 10), whole('/c', 10)] },
      { index: 2, path: '/big', offset: 0, length: 25, compressed: false, fileSize: 60 },
      { index: 3, path: '/big', offset: 25, length: 25, compressed: false, fileSize: 60 },
      { index: 4, path: '/big', offset: 50, length: 10, compressed: false, fileSize: 60 },
      { index: 5, path: '/d', offset: 0, length: 25, compressed: false, fileSize: 5, files: [whole('/d', 5), whole('/f.gz', 20)] },
    ]);
  });

  it('gives many small files as many map tasks as the same bytes in one file, of about equal size (Brown: 500 files of ~20 kB)', () => {
    const rand = mulberry32(15);
    const many = Array.from({ length: 500 }, (_, i) => file(`/brown/c${String(i).padStart(3, '0')}`, 15_000 + Math.floor(rand() * 10_000)));
    const total = many.reduce((sum, f) => sum + f.size, 0);
    const largest = Math.max(...many.map((f) => f.size));
    for (const workers of [2, 3, 4]) {
      const splitSize = defaultSplitSize(total, workers);
      const one = planSplits([file('/one', total)], { splitSize, workers, groupSmallFiles: true });
      const grouped = planSplits(many, { splitSize, workers, groupSmallFiles: true });
      expect(grouped.length).toBe(one.length);
      // Every file once, in path order; every task within one file of an equal share.
      expect(grouped.flatMap((s) => (s.files ?? [s]).map((f) => f.path))).toEqual(many.map((f) => f.path));
      for (const s of grouped) expect(Math.abs(s.length - total / one.length)).toBeLessThan(largest);
    }
  });

  it('never makes more groups of a run than its bytes need, nor a group past its share by more than half of each end file', () => {
    const rand = mulberry32(16);
    for (let trial = 0; trial < 200; trial++) {
      const sizes = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => 1 + Math.floor(rand() * 100));
      const splitSize = Math.max(...sizes) + Math.floor(rand() * 200);
      const run = sizes.map((size, i) => file(`/f${String(i).padStart(2, '0')}`, size));
      const splits = planSplits(run, { splitSize, workers: 2, groupSmallFiles: true });
      const total = sizes.reduce((a, b) => a + b, 0);
      expect(splits.length).toBeLessThanOrEqual(Math.ceil(total / splitSize));
      expect(splits.flatMap((s) => (s.files ?? [s]).map((f) => f.path))).toEqual(run.map((f) => f.path));
      // A group holds the files whose middle byte falls in its share: it passes the share by at
      // most half of each end file (so the split size by less than one file).
      const share = total / Math.ceil(total / splitSize);
      for (const s of splits) {
        const ends = s.files ? ((s.files[0]?.length ?? 0) + (s.files.at(-1)?.length ?? 0)) / 2 : s.length;
        expect(s.length).toBeLessThanOrEqual(share + ends);
      }
    }
  });

  it('keeps one split per file without it', () => {
    expect(planSplits(files, { splitSize: 25, workers: 2 }).map((s) => [s.path, s.offset, s.files])).toEqual([
      ['/a', 0, undefined],
      ['/b', 0, undefined],
      ['/c', 0, undefined],
      ['/big', 0, undefined],
      ['/big', 25, undefined],
      ['/big', 50, undefined],
      ['/d', 0, undefined],
      ['/f.gz', 0, undefined],
    ]);
  });
});

describe('a map task header naming several files', () => {
  const MAP = { v: 4, unique: 'gmr:r1:m:0', run: 'r1', job: 'wordcount', task: 0, partitions: 2, params: {} };
  const ref = (path: string, offset = 0): object => ({ path, offset, length: 10, compressed: false });

  it('decodes splits in order, the first as the split', () => {
    const header = decodeMapHeader({ ...MAP, splits: [ref('/a'), ref('/b')] });
    expect(header.split).toEqual(ref('/a'));
    expect(header.splits).toEqual([ref('/a'), ref('/b')]);
  });

  it('refuses a malformed list with one line naming the field', () => {
    expect(() => decodeMapHeader({ ...MAP, splits: [] })).toThrow('Bad map task header: splits expected a non-empty list of splits, received []');
    expect(() => decodeMapHeader({ ...MAP, splits: [ref('/a'), 'x'] })).toThrow('Bad map task header: splits[1] expected an object, received "x"');
    expect(() => decodeMapHeader({ ...MAP, splits: [ref('/a'), ref('/b', 5)] })).toThrow('Bad map task header: splits[1].offset expected 0 (grouped splits are whole files), received 5');
    expect(() => decodeMapHeader({ ...MAP, split: ref('/a'), splits: [ref('/a')] })).toThrow('Bad map task header: split expected to be absent when splits is given');
    expect(() => decodeMapHeader({ ...MAP, splits: [ref('/a')], shipped: { start: 0 } })).toThrow('Bad map task header: splits expected no shipped, skip, lineBase or header beside it');
  });
});

describe('a run over many small files', () => {
  let dir: string;
  let paths: string[];
  let names: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gmr-small-files-'));
    paths = [];
    names = [];
    // 48 files of 0.1-3 kB in 3 folders, about 60 kB in all.
    for (let i = 0; i < 48; i++) {
      const name = join(`d${i % 3}`, `f${String(i).padStart(2, '0')}.txt`);
      mkdirSync(join(dir, `d${i % 3}`), { recursive: true });
      writeFileSync(join(dir, name), `${generateText(100 + i, 2 + ((i * 7) % 40))}\n`);
      names.push(name);
    }
    names.sort();
    paths = names.map((n) => join(dir, n));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = ['--workers', '2', '--reducers', '2', '--split-size', '8k'];

  it('runs invertedindex in far fewer map tasks than files, naming the right file for every word', async () => {
    const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $f{lc $1}{$ARGV} = 1 } END { print "$_\\t", join("\\t", sort keys %{$f{$_}}), "\\n" for keys %f }';
    const reference = execFileSync('perl', ['-CSDA', '-ne', script, ...paths], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const r = await runGmr(['run', 'invertedindex', '--input', dir, ...base, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(reference);
    const summary = JSON.parse(r.stderr) as { tasks: Array<{ phase: string; input?: string }> };
    const maps = summary.tasks.filter((t) => t.phase === 'map');
    expect(maps.length).toBeGreaterThanOrEqual(2);
    expect(maps.length).toBeLessThanOrEqual(12);
    expect(maps.some((t) => / and \d+ more files$/.test(t.input ?? ''))).toBe(true);
  });

  it('runs wordcount to the counts perl gives', async () => {
    const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $c{lc $1}++ } END { print "$_\\t$c{$_}\\n" for keys %c }';
    const reference = execFileSync('perl', ['-CSDA', '-ne', script, ...paths], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const r = await runGmr(['run', 'wordcount', '--input', dir, ...base, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(reference);
  });

  it('plans the files as as many map tasks of about equal bytes as their bytes in one file, with the counts perl gives for both (issue 15)', async () => {
    const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $c{lc $1}++ } END { print "$_\\t$c{$_}\\n" for keys %c }';
    const reference = execFileSync('perl', ['-CSDA', '-ne', script, ...paths], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const one = join(mkdtempSync(join(tmpdir(), 'gmr-small-files-one-')), 'all.txt');
    writeFileSync(one, Buffer.concat(paths.map((p) => readFileSync(p))));
    try {
      const plans: Array<{ tasks: Array<{ phase: string; input?: string }> }> = [];
      for (const input of [dir, one]) {
        const r = await runGmr(['run', 'wordcount', '--input', input, '--workers', '2', '--reducers', '2', '--split-size', '16k', '--json', '--quiet']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(reference);
        plans.push(JSON.parse(r.stderr) as (typeof plans)[number]);
      }
      const [files, single] = plans.map((p) => p.tasks.filter((t) => t.phase === 'map').map((t) => Number(/@\d+\+(\d+)/.exec(t.input ?? '')?.[1])));
      // 49 kB at 16 kB a split: 4 tasks of ~12.3 kB both ways (filling tasks up to 16 kB made
      // 15.7, 16.3, 15.1 and 2.1 kB: a small task that runs after the others).
      expect(files?.length).toBe(single?.length);
      expect(files?.length).toBeGreaterThanOrEqual(2);
      const share = (single ?? []).reduce((a, b) => a + b, 0) / (single?.length ?? 1);
      for (const bytes of files ?? []) expect(Math.abs(bytes - share)).toBeLessThan(3000);
    } finally {
      rmSync(dirname(one), { recursive: true, force: true });
    }
  });

  it('lets the Perl mapper of examples/ serve grouped tasks next to gmr reducers on gearmand', async () => {
    const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $c{lc $1}++ } END { print "$_\\t$c{$_}\\n" for keys %c }';
    const reference = execFileSync('perl', ['-CSDA', '-ne', script, ...paths], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const g = await startGearmand();
    const children: ChildProcess[] = [];
    try {
      children.push(spawn('perl', [join(REPO_ROOT, 'examples/perl/wordcount-mapper.pl'), g.address], { stdio: ['ignore', 'ignore', 'inherit'], env: userEnv() }));
      children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', 'wordcount', '--phases', 'reduce', '--input-root', dir, '--quiet']));
      const admin = new AdminClient({ host: g.host, port: g.port });
      try {
        for (let i = 0; i < 400; i++) {
          const status = await admin.status();
          if (['gmr.map.wordcount', 'gmr.reduce.wordcount'].every((fn) => (status.find((s) => s.function === fn)?.workers ?? 0) > 0)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await admin.close();
      }
      const r = await runGmr(['run', 'wordcount', '--input', dir, '--servers', g.address, '--reducers', '2', '--split-size', '8k', '--json', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(reference);
      const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { mapTasks: number };
      expect(summary.mapTasks).toBeGreaterThanOrEqual(2);
      expect(summary.mapTasks).toBeLessThanOrEqual(12);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await g.stop();
    }
  });

  it('runs grep (map-only) with each line named by its own file and line, in input order, as grep -n does', async () => {
    const reference = execFileSync('grep', ['-n', 'café', ...names], { cwd: dir, encoding: 'utf8' }).replace(/\r$/gm, '');
    expect(reference.split('\n').length).toBeGreaterThan(40);
    const r = await runGmr(['run', 'grep', '--input', '.', '--param', 'pattern=café', ...base, '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(reference);
  });

  /** Counts its state's teardowns, lines and distinct files; mapHooks as given. */
  function hooksJob(mapHooks: string): string {
    const job = join(dir, `..`, `${dir.split('/').pop()}-hooks-${mapHooks}.mjs`);
    writeFileSync(
      job,
      [
        "import { defineJob } from 'gmr';",
        'export default defineJob({',
        `  mapHooks: '${mapHooks}',`,
        '  mapSetup: () => ({ lines: 0, files: new Set() }),',
        '  map(_line, ctx, state) { state.lines++; state.files.add(ctx.split.path); },',
        "  mapTeardown(ctx, state) { ctx.emit('teardowns', 1); ctx.emit('lines', state.lines); ctx.emit('files', state.files.size); },",
        '  reduce: (_key, values) => values.reduce((a, b) => a + b, 0),',
        '});',
        '',
      ].join('\n'),
    );
    return job;
  }

  it("runs mapSetup/mapTeardown once per file by default and once per task with mapHooks: 'per-task'", async () => {
    const lines = Number(execFileSync('awk', ['END { print NR }', ...paths], { encoding: 'utf8' }).trim());
    const counts = async (mapHooks: string): Promise<{ out: Record<string, number>; mapTasks: number }> => {
      const job = hooksJob(mapHooks);
      try {
        const r = await runGmr(['run', job, '--input', dir, ...base, '--json', '--quiet']);
        expect(r.code, r.stderr).toBe(0);
        const out = Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => [l.split('\t')[0], Number(l.split('\t')[1])]));
        return { out, mapTasks: (JSON.parse(r.stderr.trim().split('\n').pop() as string) as { mapTasks: number }).mapTasks };
      } finally {
        rmSync(job, { force: true });
      }
    };
    const perSplit = await counts('per-split');
    expect(perSplit.out).toEqual({ teardowns: 48, lines, files: 48 });
    const perTask = await counts('per-task');
    expect(perTask.mapTasks).toBeGreaterThanOrEqual(2);
    expect(perTask.mapTasks).toBeLessThan(48);
    // One state per task, each seeing several files: 48 files in all, one teardown per task.
    expect(perTask.out).toEqual({ teardowns: perTask.mapTasks, lines, files: 48 });
  });

  it('refuses a mapHooks that is not per-split or per-task, naming the member', () => {
    expect(() => normalizeJob({ map: () => undefined, mapHooks: 'per-file' }, 'Job module x.ts')).toThrow("Job module x.ts: expected mapHooks to be 'per-split' or 'per-task', received \"per-file\"");
    expect(() => normalizeJob({ steps: [{ map: () => undefined, mapHooks: true }] })).toThrow("step 1: expected mapHooks to be 'per-split' or 'per-task', received true");
  });
});
