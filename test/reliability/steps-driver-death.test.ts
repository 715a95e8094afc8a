/**
 * A driver SIGKILLed during step 2 of a two-step job, then `--resume`d: no task of step 1 runs
 * again (their results are in the run folder), step 2 goes on at its first unfinished task, and
 * the output matches a python3 reference; the run folder is gone after the commit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gmr-cli.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, exitOf, pidAlive, slowCorpus } from '../helpers/harness.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/slow-pipeline.ts');
const h = new Harness();
afterEach(() => h.cleanup());

interface Event {
  pid: number;
  step: number;
  phase: string;
  index: number;
  what: string;
}

function events(path: string): Event[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, where, index, what] = line.split(' ');
      const [step, phase] = (where ?? '').split(':');
      return { pid: Number(pid), step: Number(step), phase: phase ?? '', index: Number(index), what: what ?? '' };
    });
}

/** count<TAB>words sorted, counts in numeric order: python3 over the same files. */
function reference(files: string[]): string {
  const script = `
import re, sys, collections
c = collections.Counter()
for path in sys.argv[1:]:
    for w in re.findall(r"[\\w']+", open(path, encoding='utf-8').read()):
        c[w.lower()] += 1
by = collections.defaultdict(list)
for w, n in c.items():
    by[n].append(w)
for n in sorted(by):
    print(str(n) + '\\t' + ' '.join(sorted(by[n], key=lambda w: w.encode())))
`;
  return execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'gmr\\.js worker '], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('a job of two steps, driver killed in step 2, then --resume', () => {
  it('redoes no task of step 1 and commits the reference output', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = reference(input.files);
    const log = join(dir, 'tasks.log');
    const out = join(dir, 'out');
    const args = ['run', JOB, '--input', input.dir, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '2k', '--param', 'step2SleepMs=15', '--quiet'];
    const env = { GMR_TEST_TASK_LOG: log };
    const driver = h.gmr(args, env);
    let workers: number[] = [];
    await waitFor(() => (workers = childrenOf(driver.pid)).length === 2, 'the driver to start its 2 local workers');
    for (const pid of workers) h.adopt(pid);
    await waitFor(() => events(log).some((e) => e.step === 2 && e.phase === 'map' && e.what === 'end'), 'a finished map task of step 2', 240_000);
    driver.child.kill('SIGKILL');
    expect((await exitOf(driver)).signal).toBe('SIGKILL');
    await waitFor(() => workers.every((pid) => !pidAlive(pid)), `local workers ${workers.join(', ')} to exit`);
    const before = events(log).length;
    const step1Tasks = new Set(events(log).filter((e) => e.step === 1 && e.what === 'start').map((e) => `${e.phase}${e.index}`));
    expect(step1Tasks.size).toBeGreaterThanOrEqual(4);

    const resumed = h.gmr([...args, '--resume'], env);
    const result = await exitOf(resumed, 300_000);
    expect(result.code, resumed.stderr()).toBe(0);
    const after = events(log).slice(before);
    expect(after.filter((e) => e.step === 1)).toEqual([]);
    expect(after.some((e) => e.step === 2 && e.phase === 'map')).toBe(true);

    const parts = readdirSync(out).filter((e) => e.startsWith('part-')).sort();
    expect(parts).toEqual(['part-00000', 'part-00001']);
    const lines = parts.flatMap((p) => readFileSync(join(out, p), 'utf8').split('\n').filter(Boolean));
    expect(lines.sort()).toEqual(expected.split('\n').filter(Boolean).sort());
    // Each part is in natural (numeric) key order.
    for (const p of parts) {
      const counts = readFileSync(join(out, p), 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split('\t')[0]));
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
    }
    const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as { steps: Array<{ step: number; mapTasks: number; reduceTasks: number; resumedTasks: number }> };
    expect(manifest.steps).toHaveLength(2);
    expect(manifest.steps[0]?.resumedTasks).toBe((manifest.steps[0]?.mapTasks ?? 0) + (manifest.steps[0]?.reduceTasks ?? 0));
    expect(manifest.steps[1]?.mapTasks).toBeGreaterThanOrEqual(2);
    expect(readdirSync(out).filter((e) => e !== '_history').sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001']);
  }, 600_000);
});
