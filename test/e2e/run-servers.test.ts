/**
 * End to end on real gearmand: the driver with --servers, two separate `gmr worker` processes,
 * a Perl mapper from examples/ taking part, and the fail-fast preflight when no worker is there.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { REPO_ROOT, killChild, runGmr, spawnGmr, userEnv } from '../helpers/gmr-cli.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitForWorkers } from '../helpers/harness.ts';

let dir: string;
let files: string[];
let expected: string;
const servers: GearmandHandle[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-e2e-servers-'));
  files = writeCorpus(join(dir, 'in'), 11, 500);
  expected = referenceWordcount(files);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const child of children.splice(0)) await killChild(child);
  for (const server of servers.splice(0)) await server.stop();
});

describe('gmr run --servers (real gearmand)', () => {
  it('runs on two gmr worker processes and matches the reference', async () => {
    const g = await startGearmand();
    servers.push(g);
    for (let i = 0; i < 2; i++) {
      children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', 'wordcount', '--input-root', dir, '--quiet']));
    }
    await waitForWorkers(g.address, ['gmr.map.wordcount', 'gmr.reduce.wordcount'], 2);
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--servers', g.address, '--reducers', '2', '--split-size', '2k', '--quiet', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
    // The summary names the worker process that delivered each task: one of the two we started.
    const summary = JSON.parse(r.stderr.trim()) as { tasks: Array<{ attempts: Array<{ worker?: string }> }> };
    const pids = new Set(children.map((c) => String(c.pid)));
    const workers = summary.tasks.flatMap((t) => t.attempts.map((a) => a.worker ?? ''));
    expect(workers.length).toBeGreaterThan(4);
    for (const worker of workers) expect(pids.has(worker.split(':').pop() as string), worker).toBe(true);
    const shipped = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--servers', g.address, '--reducers', '2', '--split-size', '1500', '--ship', '--quiet']);
    expect(shipped.code, shipped.stderr).toBe(0);
    expect(shipped.stdout).toBe(expected);
    // A shipped .gz split carries the compressed file; the worker decompresses it.
    const gz = join(dir, 'gz');
    mkdirSync(gz, { recursive: true });
    writeFileSync(join(gz, 'a.txt.gz'), gzipSync(readFileSync(files[0] as string)));
    writeFileSync(join(gz, 'b.txt'), readFileSync(files[1] as string));
    const shippedGz = await runGmr(['run', 'wordcount', '--input', gz, '--servers', g.address, '--reducers', '2', '--split-size', '1500', '--ship', '--quiet']);
    expect(shippedGz.code, shippedGz.stderr).toBe(0);
    expect(shippedGz.stdout).toBe(expected);
  });

  it('fails fast with a message that says how to start a worker', async () => {
    const g = await startGearmand();
    servers.push(g);
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--servers', g.address, '--quiet']);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`${g.address} has no worker for gmr.map.wordcount`);
    expect(r.stderr).toContain(`gmr worker --servers ${g.address} --jobs wordcount`);
  });

  it('lets a Perl Gearman::Worker mapper from examples/ take part next to gmr reducers', async () => {
    const g = await startGearmand();
    servers.push(g);
    const perl = spawn('perl', [join(REPO_ROOT, 'examples/perl/wordcount-mapper.pl'), g.address], { stdio: ['ignore', 'ignore', 'pipe'], env: userEnv() });
    children.push(perl);
    children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', 'wordcount', '--phases', 'reduce', '--input-root', dir, '--quiet']));
    await waitForWorkers(g.address, ['gmr.map.wordcount', 'gmr.reduce.wordcount'], 1);
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'in'), '--servers', g.address, '--reducers', '2', '--split-size', '3k', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
    // Every map task was served by the Perl worker (it is the only mapper registered).
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { mapTasks: number; records: number };
    expect(summary.mapTasks).toBeGreaterThanOrEqual(2);
  });
});
