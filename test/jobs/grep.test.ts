import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import grep from '../../jobs/grep.ts';
import { resolveParams } from '../../src/mapreduce/job/load-job.ts';
import { UsageError } from '../../src/errors.ts';
import { runLocal } from '../helpers/run-local.ts';
import { generateText, tempFiles } from '../helpers/corpus.ts';

const PROSE = 'test/fixtures/text/prose.txt';

/** Reference: Python's re over the same files; paths printed as given. */
function pythonGrep(pattern: string, ignoreCase: boolean, files: string[]): string {
  const script = `
import re, sys
flags = re.I if sys.argv[2] == 'true' else 0
rx = re.compile(sys.argv[1], flags)
out = []
for path in sys.argv[3:]:
    text = open(path, encoding='utf-8', newline='').read()
    lines = text.split('\\n')
    if lines and lines[-1] == '':
        lines.pop()
    for i, line in enumerate(lines, 1):
        if line.endswith('\\r'):
            line = line[:-1]
        if rx.search(line):
            out.append(f'{path}:{i}:{line}\\n')
sys.stdout.write(''.join(out))
`;
  return execFileSync('python3', ['-c', script, pattern, String(ignoreCase), ...files], { encoding: 'utf8' });
}

let cleanup: string | undefined;
afterEach(async () => {
  if (cleanup !== undefined) await rm(cleanup, { recursive: true, force: true });
  cleanup = undefined;
});

describe('grep', () => {
  it('prints path:line:text like a Python reference, relative paths under the cwd', async () => {
    const params = resolveParams(grep, { pattern: "[Cc]af[ée]|'s " }, 'grep');
    const run = await runLocal(grep, [PROSE], { splitsPerFile: 3, params });
    expect(run.maps.length).toBe(3);
    const expected = pythonGrep("[Cc]af[ée]|'s ", false, [PROSE]);
    expect(expected.split('\n').length).toBeGreaterThan(5);
    expect(run.output).toBe(expected);
  });

  it('folds case with ignoreCase=true and prints absolute paths outside the cwd', async () => {
    const { dir, paths } = await tempFiles({ 'a.txt': generateText(5, 900), 'b.txt': generateText(6, 700) });
    cleanup = dir;
    const params = resolveParams(grep, { pattern: 'the (ok|école)', ignoreCase: 'true' }, 'grep');
    const run = await runLocal(grep, paths, { splitsPerFile: 2, params });
    const expected = pythonGrep('the (ok|école)', true, paths);
    expect(expected.length).toBeGreaterThan(100);
    expect(run.output).toBe(expected);
    expect(run.output.startsWith(`${dir}/a.txt:`)).toBe(true);
  });

  it('requires a pattern and rejects unknown params', () => {
    expect(() => resolveParams(grep, {}, 'grep')).toThrow(UsageError);
    expect(() => resolveParams(grep, {}, 'grep')).toThrow(/Missing required param for job grep: pattern/);
    expect(() => resolveParams(grep, { patern: 'x', pattern: 'y' }, 'grep')).toThrow(
      'Unknown param "patern" for job grep; known: pattern, ignoreCase',
    );
  });
});
