/**
 * `--overwrite` never deletes user data: the probes that deleted an input and a foreign folder,
 * run again and refused, and a previous gmr output replaced only once the new one is whole.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

let dir: string;
const run = (args: string[]) => runGmr(['run', 'wordcount', '--workers', '2', '--reducers', '2', '--split-size', '1k', '--quiet', ...args]);

/** Every file below a folder with its bytes, to compare a tree before and after (not `_history`, where every run is recorded). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = join(rel, entry.name);
      if (path === '_history') continue;
      if (entry.isDirectory()) walk(path);
      else out[path] = readFileSync(join(root, path), 'latin1');
    }
  };
  walk('');
  return out;
}

function committed(out: string): string {
  return readdirSync(out)
    .filter((n) => n.startsWith('part-'))
    .sort()
    .map((n) => readFileSync(join(out, n), 'utf8'))
    .join('')
    .split('\n')
    .filter(Boolean)
    .sort()
    .join('\n');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-overwrite-'));
  mkdirSync(join(dir, 'X', 'in'), { recursive: true });
  writeFileSync(join(dir, 'X', 'in', 'a.txt'), 'the cat sat on the mat\n'.repeat(200));
  writeFileSync(join(dir, 'X', 'notes.txt'), 'my notes\n'.repeat(100));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--overwrite', () => {
  it('refuses an output folder that is an input, lies inside one or contains one, and leaves them whole', async () => {
    const X = join(dir, 'X');
    const before = snapshot(X);
    const same = await run(['-i', X, '-o', X, '--overwrite']);
    expect(same.code).not.toBe(0);
    expect(same.stderr).toContain(`Output folder ${X} is the input ${X}: choose an output folder apart from the inputs (--overwrite would delete the input)`);
    const containing = await run(['-i', join(X, 'in'), '-o', X, '--overwrite']);
    expect(containing.code).not.toBe(0);
    expect(containing.stderr).toContain(`Output folder ${X} contains the input ${join(X, 'in')}`);
    const inside = await run(['-i', X, '-o', join(X, 'in', 'out'), '--overwrite']);
    expect(inside.code).not.toBe(0);
    expect(inside.stderr).toContain(`Output folder ${join(X, 'in', 'out')} is inside the input ${X}`);
    expect(snapshot(X)).toEqual(before);
  }, 240_000);

  it('refuses a folder gmr did not write (important.doc, sub/) and leaves it whole', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(join(foreign, 'sub'), { recursive: true });
    writeFileSync(join(foreign, 'important.doc'), 'do not lose me');
    writeFileSync(join(foreign, 'sub', 'more.txt'), 'nor me');
    const before = snapshot(foreign);
    const r = await run(['-i', join(dir, 'X', 'in'), '-o', foreign, '--overwrite']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`--overwrite replaces only a previous gmr output, and ${foreign} holds what gmr did not write: important.doc, sub; move them away or choose another output folder`);
    expect(snapshot(foreign)).toEqual(before);
  }, 240_000);

  it('replaces a previous gmr output, and keeps it whole when the new run fails', async () => {
    const out = join(dir, 'out');
    const input = join(dir, 'X', 'in');
    const first = await run(['-i', input, '-o', out]);
    expect(first.code, first.stderr).toBe(0);
    const old = snapshot(out);
    expect(committed(out)).toBe(referenceWordcount([join(input, 'a.txt')]).trim().split('\n').sort().join('\n'));

    // A run that fails (a map task throws) with --overwrite: the old output is untouched.
    const boom = join(dir, 'boom');
    mkdirSync(boom);
    writeFileSync(join(boom, 'a.txt'), 'fine\nboom\nfine\n');
    const failing = await runGmr(['run', join(REPO_ROOT, 'test/fixtures/jobs/throws.ts'), '-i', boom, '-o', out, '--overwrite', '--workers', '2', '--max-attempts', '1', '--quiet']);
    expect(failing.code).not.toBe(0);
    expect(snapshot(out)).toEqual(old);

    const other = join(dir, 'other');
    cpSync(input, other, { recursive: true });
    writeFileSync(join(other, 'b.txt'), 'dogs and cats\n'.repeat(50));
    const second = await run(['-i', other, '-o', out, '--overwrite']);
    expect(second.code, second.stderr).toBe(0);
    expect(committed(out)).toBe(referenceWordcount([join(other, 'a.txt'), join(other, 'b.txt')]).trim().split('\n').sort().join('\n'));
    expect(existsSync(join(out, '_SUCCESS'))).toBe(true);
    expect(existsSync(join(out, '_temporary'))).toBe(false);
  }, 240_000);
});
