/**
 * Tests mirror the code (docs/ARCHITECTURE.md, Tests): every test file sits in the test/ folder of
 * the src/ or jobs/ folder whose code it drives, or in one of the folders for tests across rooms.
 * Checked on this repository and, so the check can fail, on a hand-made tree.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gmr-cli.ts';

/** Folders of tests that go across rooms (mostly by spawning bin/gmr); they mirror no source folder. */
const ACROSS = ['architecture', 'conformance', 'e2e', 'package', 'reliability', 'soak', 'trust', 'watch'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Whether `dir` (below the repository) is a folder that holds code of its own, not only folders. */
function holdsCode(root: string, dir: string): boolean {
  try {
    return readdirSync(join(root, dir)).some((name) => name.endsWith('.ts') && statSync(join(root, dir, name)).isFile());
  } catch {
    return false;
  }
}

/** Each test file under `root/test` that is neither in a mirror of a code folder nor in an ACROSS folder, with why. */
function misplacedTests(root: string): string[] {
  const problems: string[] = [];
  for (const file of filesUnder(join(root, 'test')).filter((f) => f.endsWith('.test.ts'))) {
    const folder = relative(join(root, 'test'), dirname(file)).split(sep).join('/');
    const first = folder.split('/')[0] ?? '';
    if (folder === '' || ACROSS.includes(first)) continue; // test/x.test.ts mirrors src/x.ts
    if (first === 'jobs' ? holdsCode(root, folder) : holdsCode(root, join('src', folder))) continue;
    const mirror = first === 'jobs' ? folder : `src/${folder}`;
    problems.push(
      `test/${folder}/${file.slice(file.lastIndexOf(sep) + 1)}: ${mirror}/ holds no code of its own; move the test to ` +
        `the test/ folder of the code it tests, or to one of test/{${ACROSS.join(',')}}/`,
    );
  }
  return problems.sort();
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('test layout', () => {
  it('every test of this repository sits where docs/ARCHITECTURE.md says', () => {
    expect(misplacedTests(REPO_ROOT)).toEqual([]);
  });

  it('names a test left flat in a folder that holds only rooms, and one in a folder src/ does not have', () => {
    const root = mkdtempSync(join(tmpdir(), 'gmr-layout-'));
    dirs.push(root);
    const write = (path: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), '');
    };
    for (const path of [
      'src/defaults.ts',
      'src/mapreduce/task/map-task.ts',
      'jobs/lib/tokenize.ts',
      'test/defaults.test.ts',
      'test/mapreduce/task/map-task.test.ts',
      'test/jobs/lib/tokenize.test.ts',
      'test/e2e/anything.test.ts',
      'test/mapreduce/map-task.test.ts',
      'test/streaming/run.test.ts',
      'test/jobs/old/x.test.ts',
    ]) {
      write(path);
    }
    const where = `move the test to the test/ folder of the code it tests, or to one of test/{${ACROSS.join(',')}}/`;
    expect(misplacedTests(root)).toEqual([
      `test/jobs/old/x.test.ts: jobs/old/ holds no code of its own; ${where}`,
      `test/mapreduce/map-task.test.ts: src/mapreduce/ holds no code of its own; ${where}`,
      `test/streaming/run.test.ts: src/streaming/ holds no code of its own; ${where}`,
    ]);
  });
});
