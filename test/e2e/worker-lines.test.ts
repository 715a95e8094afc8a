/**
 * What the local workers say on stderr, as the driver shows it: each line once with the driver's
 * own prefix and the worker's number (it was `gmr: gmr: …`), and a run whose workers all died the
 * same way ends with that reason on its last line (it was a second copy of every line below it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/refuses-workers.ts');
let dir: string;
let inputs: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-worker-lines-'));
  writeFileSync(join(dir, 'a.txt'), 'a b\nb c\n');
  writeFileSync(join(dir, 'b.txt'), 'c d\nd d\n');
  inputs = `${join(dir, 'a.txt')},${join(dir, 'b.txt')}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the local workers’ stderr lines', () => {
  const reason = `Job module ${JOB} failed to load: this module refuses to load in a worker`;

  it('are shown once each as "gmr: worker N: …", and the run ends with the reason on one line', async () => {
    const r = await runGmr(['run', JOB, '--input', inputs, '--workers', '2', '--reducers', '2', '--split-size', '8', '--output', join(dir, 'out')]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('gmr: worker ')).sort()).toEqual([`gmr: worker 0: ${reason}`, `gmr: worker 1: ${reason}`]);
    expect(r.stderr).not.toContain('gmr: gmr');
    expect(lines[lines.length - 1]).toBe(`gmr: Every local worker exited (last: exit code 64): ${reason}`);
  });

  it('with --quiet, only the last line', async () => {
    const r = await runGmr(['run', JOB, '--input', inputs, '--workers', '2', '--reducers', '2', '--split-size', '8', '--output', join(dir, 'out-quiet'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gmr: Every local worker exited (last: exit code 64): ${reason}\n`);
  });
});
