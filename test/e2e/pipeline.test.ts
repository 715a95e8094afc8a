/**
 * Jobs of several steps end to end through bin/gmr: the two acceptance modules of issue 12
 * (test/fixtures/jobs/top3.ts, two steps; hours.ts, numeric keys) copied to a folder outside the checkout, and
 * examples/pipeline/busiest-hours.ts, on the embedded default and on a real gearmand with two
 * `gmr worker`s, against python3 references.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { REPO_ROOT, killChild, runGmr, spawnGmr } from '../helpers/gmr-cli.ts';
import { mulberry32 } from '../helpers/random.ts';
import { waitForWorkers } from '../helpers/harness.ts';

let dir: string;
const servers: GearmandHandle[] = [];
const children: ChildProcess[] = [];

function python(script: string, args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-user-'));
  // The modules as a user keeps them, outside the checkout.
  for (const module of ['top3.ts', 'hours.ts']) copyFileSync(join(REPO_ROOT, 'test/fixtures/jobs', module), join(dir, module));
  const random = mulberry32(12);
  const words = ['apple', 'Banana', 'cherry', '  apricot', 'blue', 'avocado', 'zebra', 'Ananas', 'bear', 'cat', '', 'yak', 'Zoo'];
  const lines = Array.from({ length: 1500 }, () => words[Math.floor(random() * words.length)] as string);
  writeFileSync(join(dir, 'lines.txt'), `${lines.join('\n')}\n`);
  const events = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ hour: Math.floor(random() * 24), id: i }));
  writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const child of children.splice(0)) await killChild(child);
  for (const server of servers.splice(0)) await server.stop();
});

function top3Reference(): string {
  return python(
    `
import sys, collections
c = collections.Counter()
for line in open(sys.argv[1], encoding='utf-8'):
    s = line.strip()
    if s:
        c[s[0].lower()] += 1
for letter, n in sorted(c.items(), key=lambda x: (-x[1], x[0]))[:3]:
    print(letter + '\\t' + str(n))
`,
    [join(dir, 'lines.txt')],
  );
}

function hoursReference(): string {
  return python(
    `
import sys, json, collections
c = collections.Counter(json.loads(l)['hour'] for l in open(sys.argv[1]) if l.strip())
for h in sorted(c):
    print(str(h) + '\\t' + str(c[h]))
`,
    [join(dir, 'events.jsonl')],
  );
}

function busiestReference(): string {
  return python(
    `
import csv, sys, collections
c = collections.Counter()
for row in csv.DictReader(open(sys.argv[1], newline='')):
    c[(int(row['status']), int(row['time']) // 3600 % 24)] += 1
best = {}
for (status, hour), n in c.items():
    if status not in best or (n, -hour) > (best[status][0], -best[status][1]):
        best[status] = (n, hour)
for status in sorted(best):
    print(str(status) + '\\t' + str(best[status][1]) + '\\t' + str(best[status][0]))
`,
    ['data/sample/logs/access.csv'],
  );
}

describe('the acceptance modules, from a folder of their own', () => {
  it('top3.ts and hours.ts on the embedded default match python3', async () => {
    const top3 = top3Reference();
    expect(top3.split('\n').filter(Boolean)).toHaveLength(3);
    const hours = hoursReference();
    expect(hours.split('\n')[10]).toMatch(/^10\t/);
    for (const size of ['300', '64m']) {
      const a = await runGmr(['run', './top3.ts', '--input', 'lines.txt', '--workers', '2', '--reducers', '2', '--split-size', size, '--quiet'], { cwd: dir });
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toBe(top3);
    }
    const b = await runGmr(['run', './hours.ts', '--input', 'events.jsonl', '--workers', '2', '--reducers', '3', '--split-size', '2000', '--quiet'], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(hours);
  }, 600_000);

  it('top3.ts and hours.ts on a real gearmand with two gmr workers match python3', async () => {
    const g = await startGearmand();
    servers.push(g);
    for (let i = 0; i < 2; i++) children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', './top3.ts,./hours.ts', '--quiet'], { cwd: dir }));
    await waitForWorkers(g.address, ['gmr.map.top3', 'gmr.reduce.top3', 'gmr.map.hours', 'gmr.reduce.hours'], 2);
    const a = await runGmr(['run', './top3.ts', '--input', 'lines.txt', '--servers', g.address, '--reducers', '2', '--split-size', '500', '--quiet', '--json'], { cwd: dir });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(top3Reference());
    const summary = JSON.parse(a.stderr.trim().split('\n').pop() as string) as { steps: Array<{ mapTasks: number; reduceTasks: number }> };
    expect(summary.steps.map((s) => s.reduceTasks)).toEqual([2, 2]);
    for (const s of summary.steps) expect(s.mapTasks).toBeGreaterThanOrEqual(2);
    const b = await runGmr(['run', './hours.ts', '--input', 'events.jsonl', '--servers', g.address, '--reducers', '2', '--split-size', '3000', '--quiet'], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(hoursReference());
  }, 600_000);
});

describe('examples/pipeline/busiest-hours.ts', () => {
  it('runs its two steps on a real gearmand with two gmr workers and matches python3', async () => {
    const g = await startGearmand();
    servers.push(g);
    const module = join(REPO_ROOT, 'examples/pipeline/busiest-hours.ts');
    for (let i = 0; i < 2; i++) children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', module, '--quiet']));
    await waitForWorkers(g.address, ['gmr.map.busiest-hours', 'gmr.reduce.busiest-hours'], 2);
    const expected = busiestReference();
    expect(expected.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3);
    const out = join(dir, 'busiest');
    const r = await runGmr(['run', module, '--input', 'data/sample/logs/access.csv', '--servers', g.address, '--reducers', '2', '--split-size', '20k', '--output', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = await runGmr(['run', module, '--input', 'data/sample/logs/access.csv', '--servers', g.address, '--reducers', '2', '--split-size', '20k', '--quiet']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe(expected);
  }, 600_000);
});
