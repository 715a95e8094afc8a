import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { resolveInputs } from '../../../src/mapreduce/driver/input-files.ts';

let root: string;

/** Writes `files` (relative path -> content) under root. */
async function tree(files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

async function inputError(patterns: string[], cwd = root): Promise<InputError> {
  const error = await resolveInputs(patterns, cwd).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

const rel = (paths: Array<{ path: string }>): string[] => paths.map((f) => path.relative(root, f.path));

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gmr-input-files-'));
  await tree({
    'data/b.txt': 'bbb\n',
    'data/a.txt': 'a\n',
    'data/z.gz': 'not really gzip',
    'data/empty.txt': '',
    'data/sub/c.txt': 'ccccc\n',
    'data/sub/deeper/d.txt': 'd\n',
    'data/.hidden.txt': 'hidden\n',
    'data/.git/e.txt': 'e\n',
    'data/_SUCCESS': '{}',
    'data/_temporary/f.txt': 'f\n',
    'data/sub/_logs/g.txt': 'g\n',
    'logs/2024/01.log': 'x\n',
    'logs/2024/02.log': 'y\n',
    'logs/_old/00.log': 'z\n',
    'logs/.cache/00.log': 'z\n',
    'empty/one.txt': '',
    'empty/two/two.txt': '',
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveInputs', () => {
  it('walks a folder recursively, skipping hidden and _ names, sorted by path', async () => {
    const files = await resolveInputs(['data'], root);
    expect(rel(files)).toEqual(['data/a.txt', 'data/b.txt', 'data/empty.txt', 'data/sub/c.txt', 'data/sub/deeper/d.txt', 'data/z.gz']);
    expect(files.every((f) => path.isAbsolute(f.path))).toBe(true);
    expect(files.map((f) => f.size)).toEqual([2, 4, 0, 6, 2, 15]);
    expect(files.map((f) => f.compressed)).toEqual([false, false, false, false, false, true]);
    expect(files.every((f) => f.mtimeMs > 0)).toBe(true);
  });

  it('takes a file named explicitly even if its name starts with _ or .', async () => {
    expect(rel(await resolveInputs(['data/_SUCCESS', 'data/.hidden.txt'], root))).toEqual(['data/.hidden.txt', 'data/_SUCCESS']);
  });

  it('walks a folder named explicitly even if its name starts with _', async () => {
    expect(rel(await resolveInputs([path.join(root, 'data/_temporary')]))).toEqual(['data/_temporary/f.txt']);
  });

  it('expands globs relative to cwd, skipping hidden and _ names below the glob', async () => {
    expect(rel(await resolveInputs(['logs/**/*.log'], root))).toEqual(['logs/2024/01.log', 'logs/2024/02.log']);
    expect(rel(await resolveInputs(['data/**/*.txt'], root))).toEqual([
      'data/a.txt',
      'data/b.txt',
      'data/empty.txt',
      'data/sub/c.txt',
      'data/sub/deeper/d.txt',
    ]);
  });

  it('takes _ names a glob asks for explicitly', async () => {
    expect(rel(await resolveInputs(['logs/_*/*.log'], root))).toEqual(['logs/_old/00.log']);
  });

  it('accepts absolute globs', async () => {
    expect(rel(await resolveInputs([`${root}/data/*.txt`]))).toEqual(['data/a.txt', 'data/b.txt', 'data/empty.txt']);
  });

  it('de-duplicates files named by several patterns and sorts the union', async () => {
    const files = await resolveInputs(['logs', 'data/sub/c.txt', 'data/*.txt', 'data/a.txt', 'logs/2024/*.log'], root);
    expect(rel(files)).toEqual(['data/a.txt', 'data/b.txt', 'data/empty.txt', 'data/sub/c.txt', 'logs/2024/01.log', 'logs/2024/02.log']);
  });

  it('follows symlinks and survives a symlink loop', async () => {
    await mkdir(path.join(root, 'linked'), { recursive: true });
    await symlink(path.join(root, 'data/sub/deeper'), path.join(root, 'linked/deeper'));
    await symlink(path.join(root, 'linked'), path.join(root, 'linked/loop'));
    const files = await resolveInputs(['linked'], root);
    expect(files.map((f) => path.basename(f.path))).toContain('d.txt');
  });

  it('names a missing path', async () => {
    expect((await inputError(['data/a.txt', 'data/x.txt'])).message).toBe('Input path not found: data/x.txt');
  });

  it('names a glob that matches nothing', async () => {
    expect((await inputError(['data/a.txt', 'logs/*.gz'])).message).toBe('Input glob matched no files: logs/*.gz');
    // Everything the glob matches is hidden or starts with _.
    expect((await inputError(['logs/*/00.log'])).message).toBe('Input glob matched no files: logs/*/00.log');
  });

  it('accepts empty files, and rejects folders that hold no file', async () => {
    expect(rel(await resolveInputs(['empty'], root))).toEqual(['empty/one.txt', 'empty/two/two.txt']);
    await mkdir(path.join(root, 'nothing', 'deeper'), { recursive: true });
    expect((await inputError(['nothing'])).message).toBe('Input has no files: nothing (empty folders)');
  });

  it('rejects an empty pattern list and an empty pattern', async () => {
    await inputError([]);
    expect((await inputError(['data', ''])).message).toBe('Input path is an empty string');
  });

  it('has code GMR_ERR_INPUT', async () => {
    expect((await inputError(['missing'])).code).toBe('GMR_ERR_INPUT');
  });
});
