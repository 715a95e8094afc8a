/**
 * Changed inputs never commit quietly: a file truncated while the run reads it fails the run
 * before commit, naming the file; a file replaced by one of the same size with its mtime restored
 * (`cp -p`) after the driver died makes `--resume` refuse, naming the file, instead of mixing old
 * and new results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, exitOf, slowCorpus, taskLog } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

function doneMapTasks(out: string): number {
  const base = join(out, '_temporary');
  let n = 0;
  for (const run of existsSync(base) ? readdirSync(base) : []) {
    const runDir = join(base, run);
    if (!existsSync(join(runDir, 'run.json'))) continue;
    for (const task of readdirSync(runDir)) if (/^map-\d+$/.test(task) && existsSync(join(runDir, task, '_DONE'))) n++;
  }
  return n;
}

describe('inputs that change', () => {
  it('a file truncated during the run fails it before commit, naming the file and the sizes', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const file = input.files[0] as string;
    const size = statSync(file).size;
    const log = join(dir, 'tasks.log');
    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '-i', input.dir, '-o', out, '--workers', '2', '--reducers', '2', '--split-size', '4k', '--param', 'mapSleepMs=3', '--quiet'], { GMR_TEST_TASK_LOG: log });
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'the first map task to start', 90_000);
    truncateSync(file, 1000);
    const result = await exitOf(driver);
    expect(result.code).not.toBe(0);
    expect(driver.stderr()).toContain(`Input changed during the run, so nothing was committed: ${file} (size ${size} → 1000 bytes`);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
    expect(existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('part-')) : []).toEqual([]);
  }, 240_000);

  it('--resume refuses finished tasks of a file replaced with same-size bytes and a restored mtime (cp -p)', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const file = input.files[0] as string;
    const out = join(dir, 'out');
    const args = ['run', SLOW_JOB, '-i', input.dir, '-o', out, '--workers', '2', '--reducers', '2', '--split-size', '3k', '--param', 'mapSleepMs=6', '--quiet'];
    const driver = h.gmr(args);
    await waitFor(() => doneMapTasks(out) >= 2, 'two finished map tasks (_DONE)', 90_000);
    driver.child.kill('SIGKILL');
    await exitOf(driver);

    // The same size and mtime, other words: what `cp -p` or `rsync -a` of an edited copy leaves.
    const before = statSync(file);
    const replacement = join(dir, 'replacement.txt');
    writeFileSync(replacement, readFileSync(file, 'utf8').replace(/[a-z]/g, 'z'));
    execFileSync('touch', ['-r', file, replacement]);
    execFileSync('cp', ['-p', replacement, file]);
    const after = statSync(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);

    const resumed = h.gmr([...args, '--resume']);
    const result = await exitOf(resumed);
    expect(result.code).not.toBe(0);
    expect(resumed.stderr()).toMatch(new RegExp(`--resume: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} changed since run \\w+ \\(its status changed \\(ctime\\), e\\.g\\. rewritten with its mtime restored\\); its finished tasks cannot be reused`));
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
  }, 240_000);
});
