/**
 * Live task status (issue 11 item 2, issue 14 item 1): ctx.status(text) of a running task reaches
 * the driver while the task runs (S frames), and shows in `gmr status --json` and `gmr status`
 * from another process, in runJob's onProgress (the CLI's progress line) and in the --json summary. A two-step job
 * watched from a second shell shows each step's progress: step 1's counts grow to its totals
 * before step 2's start, and both end at their totals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { runJob } from '../../src/mapreduce/driver/run-job.ts';
import { REPO_ROOT, runGmr, spawnGmr } from '../helpers/gmr-cli.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/status-steps.ts');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-live-status-'));
  writeCorpus(join(dir, 'in'), 7, 40);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Counts {
  total: number;
  done: number;
  running: number;
}
interface StatusJson {
  outcome: string;
  step: number;
  phase: string;
  steps: Array<{ index: number; map: Counts; reduce: Counts }>;
  running: Array<{ step: number; phase: string; index: number; status?: string; statusAt?: string }>;
  messages: Array<{ task: string; text: string }>;
}

describe('live task status', () => {
  it('reaches gmr status (JSON and text) and the summary while a two-step job runs', async () => {
    const out = join(dir, 'out');
    const driver = spawnGmr(['run', JOB, '--input', join(dir, 'in'), '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '300', '-p', 'sleepMs=100', '-p', 'step2SleepMs=400', '--json']);
    let stderr = '';
    let stdout = '';
    driver.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    driver.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => driver.once('close', (code) => resolve(code)));
    let ended = false;
    void exited.then(() => (ended = true));

    const seen: StatusJson[] = [];
    let text = '';
    while (!ended) {
      const r = await runGmr(['status', out, '--json']);
      if (r.code === 0) {
        const s = JSON.parse(r.stdout) as StatusJson;
        seen.push(s);
        if (s.outcome !== 'running') break;
        if (text === '' && s.running.some((t) => t.status !== undefined)) text = (await runGmr(['status', out])).stdout;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await exited, stderr).toBe(0);
    // The driver may end between two reads: one more shows how it ended.
    if (seen.at(-1)?.outcome === 'running' || seen.length === 0) {
      const r = await runGmr(['status', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      seen.push(JSON.parse(r.stdout) as StatusJson);
    }

    // While step 1 ran, a running map task said which line it was at; the same in step 2.
    const said = seen.flatMap((s) => s.running.filter((t) => t.status !== undefined));
    expect(said.some((t) => t.step === 0 && t.phase === 'map' && /^step 1 line \d+$/.test(t.status!)), JSON.stringify(said)).toBe(true);
    expect(said.some((t) => t.step === 1 && t.phase === 'map' && /^step 2 word \S+$/.test(t.status!)), JSON.stringify(said)).toBe(true);
    // The human view shows it too (as a running task's status, or among the latest messages).
    expect(text).toMatch(/map \d+( attempt \d+)?: step [12] (line \d+|word \S+)/);

    // Per step: each step's counts only grow, step 1 is done before step 2 starts, both end at their totals.
    const withSteps = seen.filter((s) => s.steps.length > 0);
    for (const k of [0, 1]) {
      const done = withSteps.filter((s) => s.steps[k]).map((s) => s.steps[k]!.map.done + s.steps[k]!.reduce.done);
      for (let i = 1; i < done.length; i++) expect(done[i]).toBeGreaterThanOrEqual(done[i - 1]!);
    }
    const inStep2 = withSteps.filter((s) => s.steps.length === 2);
    expect(inStep2.length).toBeGreaterThan(0);
    for (const s of inStep2) {
      expect(s.steps[0]!.map.done).toBe(s.steps[0]!.map.total);
      expect(s.steps[0]!.reduce.done).toBe(s.steps[0]!.reduce.total);
    }
    const last = seen[seen.length - 1]!;
    expect(last.outcome).toBe('committed');
    expect(last.steps).toHaveLength(2);
    for (const st of last.steps) {
      expect(st.map.done).toBe(st.map.total);
      expect(st.reduce.done).toBe(st.reduce.total);
      expect(st.map.total).toBeGreaterThanOrEqual(2);
    }
    // A step-2 read saw a step-2 task running before it ended.
    expect(inStep2.some((s) => s.steps[1]!.map.running + s.steps[1]!.reduce.running > 0)).toBe(true);

    // The --json summary keeps each map task's last status.
    const summary = JSON.parse(stdout.trim()) as { tasks: Array<{ step?: number; phase: string; status?: string }> };
    const maps = summary.tasks.filter((t) => t.phase === 'map');
    for (const t of maps) expect(t.status, JSON.stringify(t)).toMatch(t.step === 1 ? /^step 1 line \d+$/ : /^step 2 word \S+$/);
  });

  it("runJob's onProgress carries the newest status of a running task (what the progress line shows)", async () => {
    const statuses: string[] = [];
    const summary = await runJob({
      job: JOB,
      input: [join(dir, 'in')],
      output: join(dir, 'out-progress'),
      workers: 2,
      reducers: 2,
      splitSize: 300,
      params: { sleepMs: 40, step2SleepMs: 100 },
      onProgress: (p) => {
        if (p.status) statuses.push(`${p.step}/${p.steps} ${p.status.task}: ${p.status.text}`);
      },
    });
    expect(summary.ok).toBe(true);
    expect(statuses.some((s) => /^1\/2 map \d+: step 1 line \d+$/.test(s)), statuses.join('\n')).toBe(true);
    expect(statuses.some((s) => /^2\/2 map \d+: step 2 word \S+$/.test(s)), statuses.join('\n')).toBe(true);
  });
});
