/**
 * Typed job params (issue 11, item 3): a bad --param value is a usage error (exit 64) named in one
 * line before any task runs; good values reach the job typed; `gmr run <job> --help` lists them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/typed-params.ts');
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-params-'));
  input = join(dir, 'in.txt');
  writeFileSync(input, ['a', 'abc', 'abcdef', 'ab', 'abcd'].join('\n').concat('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--workers', '2', '--reducers', '2', '--split-size', '6', '--quiet'];

describe('typed --param values', () => {
  it.each([
    [['-p', 'min=abc'], '--param min expects a whole number, received "abc"'],
    [['-p', 'min=2.5'], '--param min expects a whole number, received "2.5"'],
    [['-p', 'min=-1'], '--param min is not valid (received "-1"): expected >= 0'],
    [['-p', 'min=1', '-p', 'scale=lots'], '--param scale expects a number, received "lots"'],
    [['-p', 'min=1', '-p', 'loud=maybe'], '--param loud expects true or false, received "maybe"'],
    [[], 'Missing required param for job typed-params: min (shortest line counted); pass --param name=value'],
  ])('%j exits 64 with one line before any task runs', async (flags, message) => {
    const mark = join(dir, `mark-${flags.join('')}`);
    const out = join(dir, `out-${flags.join('')}`);
    const r = await runGmr(['run', JOB, '--input', input, '--output', out, ...base, ...flags], { env: { GMR_TEST_MARK: mark } });
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`gmr: ${message}\n`);
    expect(existsSync(mark)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('hands the job numbers, booleans and lists', async () => {
    const mark = join(dir, 'mark-ok');
    const r = await runGmr(['run', JOB, '--input', input, ...base, '-p', 'min=3', '-p', 'scale=0.5', '-p', 'loud=yes', '-p', 'tags=x, y'], {
      env: { GMR_TEST_MARK: mark },
    });
    expect(r.code, r.stderr).toBe(0);
    // Lines of length >= 3: abc, abcdef, abcd → 3 × 0.5 per tag (hand-counted).
    expect(r.stdout).toBe('X\t1.5\nY\t1.5\n');
    expect(readFileSync(mark, 'utf8').split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('an invalid grep pattern fails at once as a usage error instead of 3 attempts per task', async () => {
    const r = await runGmr(['run', 'grep', '--input', input, ...base, '--param', 'pattern=(']);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe('gmr: --param pattern is not valid (received "("): Invalid regular expression: /(/: Unterminated group\n');
  });
});

describe('gmr run <job> --help', () => {
  it('prints the job description and its params, then the run options', async () => {
    const r = await runGmr(['run', JOB, '--help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Job typed-params: counts lines at least --param min long, tagged with --param tags');
    expect(lines.slice(2, 8)).toEqual([
      'Parameters (--param NAME=VALUE):',
      '  min    shortest line counted (integer, required)',
      '  scale  multiplier (number, default 1)',
      '  loud   upper-case the keys (boolean, default false)',
      '  tags   key prefixes (list, default "line")',
      '  label  free text (string)',
    ]);
    expect(r.stdout).toContain('Usage: gmr run <job> --input PATH');
    expect(r.stdout).toContain('64   usage error');
  });
});
