/**
 * topwords against a python3 reference (word counts ranked by count, then word), in-process at
 * several map task and reducer counts, and through the engine at several split sizes.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import topwords from '../../jobs/topwords.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';
import { runLocal } from '../helpers/run-local.ts';

const FILES = ['data/sample/licenses/BSD.txt', 'data/sample/licenses/Artistic.txt', 'data/sample/licenses/MPL-2.0.txt'];

function reference(n: number): string {
  const script = `
import re, sys, collections
c = collections.Counter()
for path in sys.argv[2:]:
    for w in re.findall(r"[\\w']+", open(path, encoding='utf-8').read()):
        c[w.lower()] += 1
ranked = sorted(c.items(), key=lambda wc: (-wc[1], wc[0].encode('utf-8')))
for w, n in ranked[:int(sys.argv[1])]:
    print(w + '\\t' + str(n))
`;
  return execFileSync('python3', ['-c', script, String(n), ...FILES], { cwd: REPO_ROOT, encoding: 'utf8' });
}

describe('topwords', () => {
  it('ranks like python3 with 2..4 map tasks per file and 2..3 reducers per step', async () => {
    for (const n of [1, 10, 57]) {
      const expected = reference(n);
      expect(expected.split('\n').filter(Boolean)).toHaveLength(n);
      for (const [splitsPerFile, partitions] of [[2, 2], [4, 3]] as const) {
        const run = await runLocal(topwords, FILES.map((f) => `${REPO_ROOT}${f}`), { splitsPerFile, partitions, params: { n: String(n) } });
        expect(run.maps.length).toBeGreaterThan(2 * 3);
        expect(run.output).toBe(expected);
      }
    }
  });

  it('ranks like python3 through the engine at split sizes from 700 bytes to 64 MiB', async () => {
    const expected = reference(12);
    for (const [size, reducers] of [['700', '2'], ['64m', '3']] as const) {
      const r = await runGmr(['run', 'topwords', ...FILES.flatMap((f) => ['--input', f]), '--param', 'n=12', '--workers', '2', '--reducers', reducers, '--split-size', size, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
    }
  }, 600_000);

  it('says what n it expected', async () => {
    await expect(runLocal(topwords, [`${REPO_ROOT}${FILES[0]}`], { params: { n: 'ten' } })).rejects.toThrow('topwords: expected --param n=<whole number >= 1>, received n=ten');
  });
});
