/**
 * The live progress line under a real pseudo-terminal (script(1)) of 60 and 80 columns (issue 11,
 * item 8): every redraw fits in the terminal's width, so nothing wraps, and "running" counts only
 * tasks a worker has started (never more than the workers).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GMR_BIN, userEnv } from '../helpers/gmr-cli.ts';

let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-width-'));
  input = join(dir, 'numbers.txt');
  // 60 000 lines of 6+ bytes: enough splits of 16 KiB for many redraws.
  writeFileSync(input, Array.from({ length: 60_000 }, (_, i) => `w${i % 977} ${i}`).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a terminal of `columns` columns received on stderr from one run (stdout is discarded). */
function terminalOutput(columns: number, workers: number): string {
  const command = `stty cols ${columns} rows 24; ${JSON.stringify(process.execPath)} ${JSON.stringify(GMR_BIN)} run wordcount --input ${JSON.stringify(input)} --workers ${workers} --reducers 2 --split-size 16k > /dev/null`;
  return execFileSync('script', ['-qec', command, '/dev/null'], { env: userEnv(), encoding: 'utf8', timeout: 120_000 });
}

/** Each redraw of the live line: the text after `\r\x1b[2K`, up to the next redraw or newline. */
function redraws(out: string): string[] {
  return out
    .split('\r\x1b[2K')
    .slice(1)
    .map((s) => s.split(/\r|\n/)[0] ?? '');
}

describe('the live progress line', () => {
  it.each([60, 80])('fits in %i columns on every redraw', (columns) => {
    const lines = redraws(terminalOutput(columns, 2));
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      // Columns, not bytes: "·" is one column.
      expect([...line].length, line).toBeLessThan(columns);
      expect(line).toMatch(/^map \d+%/);
    }
    // At 80 columns the bytes still show; the last redraw has every task done.
    if (columns === 80) expect(lines.some((l) => /\(\d/.test(l) && /B/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/tasks (\d+)\/\1 .*reduce 2\/2/);
  });

  it('counts as running only the tasks a worker started: never more than one with --workers 1', () => {
    const lines = redraws(terminalOutput(200, 1));
    const running = lines.map((l) => Number(/\((\d+) running/.exec(l)?.[1] ?? 0));
    expect(Math.max(...running)).toBe(1);
  });
});
