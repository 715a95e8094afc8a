/**
 * sessions against a python3 reference over generated JSON-lines and CSV events, in-process at
 * several map task and reducer counts, and through the engine at several split sizes and gaps.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import sessions from '../../jobs/sessions.ts';
import { runGmr } from '../helpers/gmr-cli.ts';
import { mulberry32 } from '../helpers/random.ts';
import { runLocal } from '../helpers/run-local.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Events of 40 users over a day, shuffled across two files (JSON lines and CSV), some unusable. */
async function events(): Promise<string[]> {
  dir = await mkdtemp(path.join(tmpdir(), 'gmr-sessions-'));
  const random = mulberry32(21);
  const json: string[] = [];
  const csv: string[] = ['time,user,page'];
  for (let i = 0; i < 3000; i++) {
    const user = `user${Math.floor(random() * 40)}${random() < 0.05 ? 'é' : ''}`;
    const time = 1_700_000_000 + Math.floor(random() * 86_400);
    if (random() < 0.5) json.push(JSON.stringify({ user, time, page: `/p${i % 7}` }));
    else csv.push(`${time},${user},/p${i % 7}`);
  }
  json.push('{"user":"","time":1}', '{"user":"x","time":"soon"}', '{"time":5}');
  csv.push(',user1,/nobody', 'later,user2,/p');
  const files = [path.join(dir, 'a.jsonl'), path.join(dir, 'b.csv')];
  await writeFile(files[0] as string, `${json.join('\n')}\n`);
  await writeFile(files[1] as string, `${csv.join('\n')}\n`);
  return files;
}

function reference(gap: number, files: string[]): string {
  const script = `
import csv, json, sys
gap = float(sys.argv[1])
times = {}
def add(user, time):
    try:
        t = float(time)
    except (TypeError, ValueError):
        return
    if not isinstance(user, str) or user == '':
        return
    times.setdefault(user, []).append(t)
for path in sys.argv[2:]:
    if path.endswith('.csv'):
        for row in csv.DictReader(open(path, encoding='utf-8', newline='')):
            add(row.get('user'), row.get('time'))
    else:
        for line in open(path, encoding='utf-8'):
            if line.strip():
                e = json.loads(line)
                add(e.get('user'), e.get('time'))
def fmt(x):
    return str(int(x)) if x == int(x) else ('%.6f' % x).rstrip('0').rstrip('.')
for user in sorted(times, key=lambda u: u.encode('utf-8')):
    ts = sorted(times[user])
    lengths = []
    start = last = ts[0]
    for t in ts[1:]:
        if t - last >= gap:
            lengths.append(last - start)
            start = t
        last = t
    lengths.append(last - start)
    print(user + '\\t' + str(len(lengths)) + '\\t' + fmt(sum(lengths) / len(lengths)))
`;
  return execFileSync('python3', ['-c', script, String(gap), ...files], { encoding: 'utf8' });
}

const sortedLines = (text: string): string[] => text.split('\n').filter(Boolean).sort();

describe('sessions', () => {
  it('matches python3 with 2..5 map tasks per file and 2..3 reducers per step', async () => {
    const files = await events();
    for (const gap of [600, 1800]) {
      const expected = reference(gap, files);
      expect(expected.split('\n').filter(Boolean).length).toBeGreaterThan(40);
      for (const [splitsPerFile, partitions] of [[2, 2], [5, 3]] as const) {
        const run = await runLocal(sessions, files, { splitsPerFile, partitions, params: { gap: String(gap) } });
        expect(sortedLines(run.output)).toEqual(sortedLines(expected));
        expect(run.counters['sessions.bad_events']).toBe(5);
      }
    }
  });

  it('matches python3 through the engine, stdout in user order, at split sizes from 4 KB to 64 MiB', async () => {
    const files = await events();
    const expected = reference(1200, files);
    for (const [size, reducers] of [['4k', '2'], ['64m', '3']] as const) {
      const r = await runGmr(['run', 'sessions', ...files.flatMap((f) => ['--input', f]), '--param', 'gap=1200', '--workers', '2', '--reducers', reducers, '--split-size', size, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
    }
  }, 600_000);
});
