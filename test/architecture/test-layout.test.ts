/**
 * Tests mirror the code (docs/ARCHITECTURE.md, Tests): every test file sits in the test/ folder of
 * the src/ or jobs/ folder whose code it drives, or in one of the folders for tests across rooms,
 * and a module tests of several folders share sits in test/helpers/ or test/fixtures/. Checked on
 * this repository and, so the checks can fail, on hand-made trees.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

/** Where modules that tests of several folders share belong. */
const SHARED = ['helpers', 'fixtures'];

/**
 * Each import of a module under `root/test` from a file in another folder, where the module is
 * neither in test/helpers/ nor in test/fixtures/: a helper of one folder's tests that others came
 * to lean on (test/reliability/harness.ts was imported by trust/, watch/, e2e/, cli/ and server/).
 */
function strayHelpers(root: string): string[] {
  const test = join(root, 'test');
  const problems: string[] = [];
  for (const file of filesUnder(test).filter((f) => f.endsWith('.ts'))) {
    // Import statements (at the start of a line) of files that exist: not the import lines of job
    // sources a test writes as text into a temporary folder.
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.{1,2}\/[^']+)'/gm)) {
      const target = resolve(dirname(file), match[1] ?? '');
      const where = relative(test, target).split(sep);
      if (where[0] === '..' || SHARED.includes(where[0] ?? '') || dirname(target) === dirname(file) || !existsSync(target)) continue;
      const name = (path: string): string => relative(root, path).split(sep).join('/');
      problems.push(`${name(file)} imports ${name(target)}, a module of another folder's tests; move it to test/{${SHARED.join(',')}}/`);
    }
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

  it('every module that tests of several folders import sits in test/helpers/ or test/fixtures/', () => {
    expect(strayHelpers(REPO_ROOT)).toEqual([]);
  });

  it("names an import of another folder's own helper, and passes shared, same-folder and src/ imports", () => {
    const root = mkdtempSync(join(tmpdir(), 'gmr-layout-'));
    dirs.push(root);
    const files: Record<string, string> = {
      'test/helpers/cleanup.ts': '',
      'test/fixtures/packets.ts': '',
      'test/reliability/harness.ts': "import { Cleanup } from '../helpers/cleanup.ts';\n",
      'test/reliability/death.test.ts': "import { Harness } from './harness.ts';\nimport { x } from '../../src/errors.ts';\n",
      'test/trust/forged.test.ts': "import { Harness } from '../reliability/harness.ts';\nimport { PACKETS } from '../fixtures/packets.ts';\n",
      'test/server/queue/restart.test.ts': "import type { Proc } from '../../reliability/harness.ts';\n",
      // Job sources a test writes into a temporary folder: text, not imports of the test.
      'test/watch/job-text.test.ts': "const a = \"import { Harness } from '../reliability/harness.ts';\";\nconst b = `\nimport { n } from '../reliability/lib/n.ts';\n`;\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const move = "a module of another folder's tests; move it to test/{helpers,fixtures}/";
    expect(strayHelpers(root)).toEqual([
      `test/server/queue/restart.test.ts imports test/reliability/harness.ts, ${move}`,
      `test/trust/forged.test.ts imports test/reliability/harness.ts, ${move}`,
    ]);
  });
});
