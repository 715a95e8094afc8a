/**
 * What a user sees on stderr: a live progress line redrawn in place on a terminal, plain lines
 * otherwise, nothing with --quiet; the result on stdout stays clean in every case.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GMR_BIN, runGmr, userEnv } from '../helpers/gmr-cli.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-progress-'));
  writeFileSync(join(dir, 'a.txt'), 'Hello world\nhello Gearman world\n'.repeat(50));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RESULT = 'gearman\t50\nhello\t100\nworld\t100\n';

describe('progress reporting', () => {
  it('prints a final plain progress line on stderr when stderr is not a terminal', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'a.txt'), '--workers', '2', '--reducers', '2', '--split-size', '200']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(RESULT);
    expect(r.stderr).not.toContain('\x1b[');
    // The progress line comes last before the counters (gmr: counters: and three more lines).
    const lines = r.stderr.trim().split('\n');
    expect(lines.slice(-4)).toEqual(['gmr: counters:', expect.stringMatching(/^ {2}records read=\d+$/), '  records written=3', '  bad records skipped=0']);
    const last = lines[lines.length - 5] ?? '';
    expect(last).toMatch(/^map 100% \(1\.6 KB\/1\.6 KB, .*\) tasks 8\/8 · reduce 2\/2 · \d+:\d\d$/);
  });

  it('redraws one live line on a terminal and ends it before the result', () => {
    // script(1) gives the command a pseudo-terminal for stdout and stderr alike.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(GMR_BIN)} run wordcount --input ${JSON.stringify(join(dir, 'a.txt'))} --workers 2 --reducers 2 --split-size 200`;
    const out = execFileSync('script', ['-qec', command, '/dev/null'], { env: userEnv(), encoding: 'utf8' }).replace(/\r\n/g, '\n');
    expect(out).toContain('\r\x1b[2Kmap ');
    // The live line is finished with a newline before the first result line.
    const resultStart = out.indexOf('gearman\t50');
    expect(resultStart).toBeGreaterThan(0);
    expect(out[resultStart - 1]).toBe('\n');
    expect(out.slice(resultStart)).toBe(RESULT);
  });

  it('is silent with --quiet', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', join(dir, 'a.txt'), '--workers', '2', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(RESULT);
  });
});

describe('a reader that stops early', () => {
  it('ends the output quietly with exit 0 when stdout closes (gmr run … | head -1)', () => {
    const out = execFileSync('bash', ['-c', `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(GMR_BIN)} run grep --input data/sample/licenses --param pattern=the --quiet | head -1; echo "exit=\${PIPESTATUS[0]}"`], {
      cwd: join(GMR_BIN, '..', '..'),
      env: userEnv(),
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^data\/sample\/licenses\/[^:]+:\d+:/);
    expect(lines[1]).toBe('exit=0');
  });
});
