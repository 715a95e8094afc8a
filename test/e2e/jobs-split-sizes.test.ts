/**
 * The built-in jobs through the whole engine (embedded server, 2 local workers, 2+ reducers) give
 * the same output as independent python3 references, for split sizes from a few bytes to larger
 * than the input. (wordcount and grep have their own cases in run-embedded.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const SIZES = ['53', '1000', '64m'];

function python(script: string, args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
}

describe('built-in jobs at every split size, against python3', () => {
  it('invertedindex: word -> sorted files it appears in', async () => {
    const files = ['data/sample/licenses/BSD.txt', 'data/sample/licenses/Artistic.txt', 'data/sample/licenses/MPL-2.0.txt'];
    const expected = python(
      `
import re, sys
index = {}
for path in sys.argv[1:]:
    text = open(path, encoding='utf-8').read()
    for w in re.findall(r"[\\w']+", text):
        index.setdefault(w.lower(), set()).add(path)
for w in sorted(index, key=lambda w: w.encode()):
    print(w + '\\t' + '\\t'.join(sorted(index[w])))
`,
      files,
    );
    expect(expected.split('\n').length).toBeGreaterThan(500);
    for (const size of SIZES) {
      const r = await runGmr(['run', 'invertedindex', ...files.flatMap((f) => ['--input', f]), '--workers', '2', '--reducers', '3', '--split-size', size, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
    }
  }, 300_000);

  it('aggregate: count, sum, min and max of bytes per status code over CSV', async () => {
    const csv = 'data/sample/logs/access.csv';
    const expected = python(
      `
import csv, sys
groups = {}
for row in csv.DictReader(open(sys.argv[1], newline='')):
    groups.setdefault(row['status'], []).append(int(row['bytes']))
for k in sorted(groups):
    v = groups[k]
    print('\\t'.join([k, str(len(v)), str(sum(v)), str(min(v)), str(max(v))]))
`,
      [csv],
    );
    expect(expected.trim().split('\n')).toHaveLength(5);
    for (const size of SIZES) {
      const r = await runGmr(['run', 'aggregate', '--input', csv, '--param', 'by=status', '--param', 'sum=bytes', '--param', 'min=bytes', '--param', 'max=bytes', '--workers', '2', '--reducers', '2', '--split-size', size, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
    }
  }, 300_000);
});
