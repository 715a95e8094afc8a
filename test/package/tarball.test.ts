/**
 * gmr as a stranger gets it: `npm pack`, then installed into a project outside the checkout, and
 * globally into a prefix, where its commands, its types and job modules from any folder must work.
 * Every output is compared with python3's; the README's job examples are the files compiled here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { killChild, REPO_ROOT } from '../helpers/gmr-cli.ts';
import { referenceBytesByStatus, referenceLongestLine, referenceWordcount } from '../helpers/reference.ts';
import { nodeModulesAbove, run, sandboxEnv, TSC, type Ran } from './sandbox.ts';

/** Exactly what the issue calls a user's plain strict tsconfig. */
const USER_TSCONFIG = '{ "compilerOptions": { "strict": true, "module": "nodenext" } }\n';
const EXAMPLES = path.join(REPO_ROOT, 'examples', 'readme');
/** A package named gmr that must never be the one a job gets. */
const SECOND_COPY = 'export function defineJob() { throw new Error("a job got the second copy of gmr"); }\n';
const SMALL_TASKS = ['--workers', '2', '--reducers', '2', '--quiet'];
/** Each test runs npm, tsc or several gmr runs (each spawning workers): generous on a loaded machine. */
const SLOW = { timeout: 600_000 };

let root: string;
let tarball: string;
let packed: { version: string; files: string[] };
let project: string;
let installed: string;

function ok(result: Ran, what: string): string {
  expect(result.code, `${what}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).map((name) => path.join(dir, name));
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'gmr-package-'));
  expect(root.startsWith(REPO_ROOT)).toBe(false);
  // The dist/ that `npm test` built in pretest; --ignore-scripts so no rebuild rewrites dist/ under
  // the other test files that run gmr from it at the same time.
  const pack = ok(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], REPO_ROOT), 'npm pack');
  const [info] = JSON.parse(pack) as Array<{ filename: string; version: string; files: Array<{ path: string }> }>;
  if (info === undefined) throw new Error(`npm pack printed no package: ${pack}`);
  tarball = path.join(root, info.filename);
  packed = { version: info.version, files: info.files.map((f) => f.path).sort() };
  project = path.join(root, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), '{ "name": "user-project", "version": "1.0.0", "private": true, "type": "commonjs" }\n');
  ok(await run('npm', ['install', tarball], project), 'npm install <tarball>');
  installed = path.join(project, 'node_modules', 'gmr');
}, 300_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('the checkout', SLOW, () => {
  it('runs its own bin with npx gmr, with no dependency on itself', async () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('gmr');
    expect(ok(await run('npx', ['gmr', '--version'], REPO_ROOT), 'npx gmr in the checkout')).toBe(`${manifest.version}\n`);
  });
});

describe('the tarball', SLOW, () => {
  it('ships what runs and nothing else', () => {
    const tops = new Set(packed.files.map((f) => f.split('/')[0]));
    expect([...tops].sort()).toEqual(['LICENSE', 'README.md', 'bin', 'data', 'dist', 'package.json']);
    for (const file of packed.files) {
      expect(file, 'no tests, benchmarks, CI, sources or source maps').not.toMatch(/^(test|bench|\.ci|src|jobs|examples)\/|\.map$/);
    }
    for (const file of ['bin/gmr.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/protocol/index.d.ts', 'dist/jobs/wordcount.js', 'dist/bundle/cli/main.js', 'dist/bundle/index.js', 'dist/bundle/jobs/wordcount.js', 'data/sample/logs/access.csv']) {
      expect(packed.files).toContain(file);
    }
  });

  it('has a manifest without itself, install scripts or targets it does not ship', () => {
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
      engines: { node: string };
    };
    expect(Object.keys(manifest.dependencies)).not.toContain('gmr');
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts).not.toHaveProperty(script);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const files = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const file of files) expect(packed.files, `exports["${subpath}"]`).toContain(file.replace(/^\.\//, ''));
    }
    expect(manifest.engines.node).toMatch(new RegExp(`\\^${process.versions.node.split('.')[0]}\\.`));
  });
});

describe('installed into a project outside the checkout', SLOW, () => {
  it('type-checks the README examples under a plain strict tsconfig', async () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts'));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const file of examples) {
      const text = readFileSync(path.join(EXAMPLES, file), 'utf8');
      expect(readme, `README quotes examples/readme/${file} exactly`).toContain('```ts\n' + text + '```\n');
      writeFileSync(path.join(project, file), text);
    }
    const jobBlocks = [...readme.matchAll(/```ts\n([\s\S]*?)```\n/g)].map((m) => m[1] ?? '').filter((b) => b.includes('defineJob('));
    expect(jobBlocks.length, 'every job example in the README is a file in examples/readme/').toBe(examples.length);
    writeFileSync(path.join(project, 'tsconfig.json'), USER_TSCONFIG);
    const tsc = await run(process.execPath, [TSC, '--noEmit', '-p', project], project);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('makes a combiner or reducer that does not fit what map emits a compile error', async () => {
    const misfit = path.join(project, 'misfit');
    mkdirSync(misfit);
    writeFileSync(path.join(misfit, 'tsconfig.json'), USER_TSCONFIG);
    writeFileSync(
      path.join(misfit, 'job.ts'),
      [
        "import { defineJob, type MapContext } from 'gmr';",
        'export const badCombine = defineJob({',
        '  map(line: string, ctx: MapContext<string, number>) { ctx.emit(line, 1); },',
        '  combine: (a: string, b: string) => a + b,',
        '});',
        'export const badReduce = defineJob({',
        '  map(line: string, ctx) { ctx.emit(line, line.length); },',
        '  combine: (a: number, b: number) => a + b,',
        "  reduce: (_key, values: string[]) => values.join(''),",
        '});',
        '',
      ].join('\n'),
    );
    const tsc = await run(process.execPath, [TSC, '--noEmit', '-p', misfit], misfit);
    expect(tsc.code).not.toBe(0);
    const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS'));
    expect(errors.map((l) => l.replace(/\(\d+,\d+\).*/, '').trim())).toEqual(['job.ts', 'job.ts']);
    expect(errors[0]).toMatch(/^job\.ts\(3,/);
    expect(errors[1]).toMatch(/^job\.ts\(9,/);
  });

  it('npx gmr --version and npx gmr jobs', async () => {
    expect(ok(await run('npx', ['gmr', '--version'], project), 'gmr --version')).toBe(`${packed.version}\n`);
    const names = readdirSync(path.join(installed, 'dist', 'jobs')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3));
    const listed = ok(await run('npx', ['gmr', 'jobs'], project), 'gmr jobs').split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    expect(listed).toEqual(names.sort());
  });

  it('npx gmr run wordcount matches python3', async () => {
    const input = path.join(installed, 'data', 'sample', 'licenses');
    const out = ok(await run('npx', ['gmr', 'run', 'wordcount', '--input', input, '--split-size', '8k', ...SMALL_TASKS], project), 'wordcount');
    expect(out).toBe(referenceWordcount(filesIn(input)));
  });

  it('npx gmr run ./my-job.ts and ./longest-line.ts (the README examples) match python3', async () => {
    const logs = path.join(installed, 'data', 'sample', 'logs');
    const bytes = ok(await run('npx', ['gmr', 'run', './my-job.ts', '--input', logs, '--split-size', '16k', ...SMALL_TASKS], project), 'my-job');
    expect(bytes).toBe(referenceBytesByStatus(filesIn(logs)));
    const licenses = path.join(installed, 'data', 'sample', 'licenses');
    const longest = ok(await run('npx', ['gmr', 'run', './longest-line.ts', '--input', licenses, '--split-size', '8k', ...SMALL_TASKS], project), 'longest-line');
    expect(longest).toBe(referenceLongestLine(filesIn(licenses)));
  });

  it('gives a job next to another node_modules/gmr the running gmr, not that copy', async () => {
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(path.join(elsewhere, 'node_modules', 'gmr'), { recursive: true });
    writeFileSync(path.join(elsewhere, 'node_modules', 'gmr', 'package.json'), '{ "name": "gmr", "version": "0.0.1", "type": "module", "exports": "./index.js" }\n');
    writeFileSync(path.join(elsewhere, 'node_modules', 'gmr', 'index.js'), SECOND_COPY);
    cpSync(path.join(EXAMPLES, 'my-job.ts'), path.join(elsewhere, 'my-job.ts'));
    const logs = path.join(installed, 'data', 'sample', 'logs');
    const out = ok(await run('npx', ['gmr', 'run', path.join(elsewhere, 'my-job.ts'), '--input', logs, ...SMALL_TASKS], project), 'job elsewhere');
    expect(out).toBe(referenceBytesByStatus(filesIn(logs)));
  });
});

describe('installed globally into a prefix', SLOW, () => {
  const gearmand = useGearmand();
  const workers: ChildProcess[] = [];
  let prefix: string;
  let gmr: string;
  let bare: string;
  let logs: string;

  beforeAll(async () => {
    prefix = path.join(root, 'global');
    ok(await run('npm', ['install', '-g', '--prefix', prefix, tarball], root), 'npm install -g');
    gmr = path.join(prefix, 'bin', 'gmr');
    logs = path.join(prefix, 'lib', 'node_modules', 'gmr', 'data', 'sample', 'logs');
    // A folder with no package.json and no node_modules anywhere above it.
    bare = path.join(root, 'bare', 'jobs');
    mkdirSync(bare, { recursive: true });
    cpSync(path.join(EXAMPLES, 'my-job.ts'), path.join(bare, 'my-job.ts'));
    writeFileSync(
      path.join(bare, 'plain-js.js'),
      "import { defineJob } from 'gmr';\nexport default defineJob({ input: 'csv', map(row, ctx) { ctx.emit(row.status, Number(row.bytes) || 0); }, combine: (a, b) => a + b,\n  reduce: (_status, totals) => totals.reduce((a, b) => a + b, 0) });\n",
    );
  }, 300_000);

  afterAll(async () => {
    for (const child of workers.splice(0)) await killChild(child);
  });

  it('gmr run /some/dir/job.ts where that folder has no node_modules at all', async () => {
    expect(nodeModulesAbove(bare)).toEqual([]);
    const out = ok(await run(gmr, ['run', path.join(bare, 'my-job.ts'), '--input', logs, '--split-size', '16k', ...SMALL_TASKS], bare), 'global run');
    expect(out).toBe(referenceBytesByStatus(filesIn(logs)));
    const js = ok(await run(gmr, ['run', './plain-js.js', '--input', logs, '--split-size', '16k', ...SMALL_TASKS], bare), 'global .js run');
    expect(js).toBe(referenceBytesByStatus(filesIn(logs)));
  });

  it('gmr worker --jobs /some/dir/job.ts serves a run on a real gearmand', async () => {
    const job = path.join(bare, 'my-job.ts');
    for (let i = 0; i < 2; i++) {
      workers.push(spawn(gmr, ['worker', '--servers', gearmand.address, '--jobs', job, '--quiet'], { cwd: root, env: sandboxEnv(), stdio: 'ignore' }));
    }
    const admin = new AdminClient({ host: gearmand.host, port: gearmand.port });
    try {
      for (let i = 0; ; i++) {
        const status = await admin.status();
        if (['gmr.map.my-job', 'gmr.reduce.my-job'].every((fn) => (status.find((s) => s.function === fn)?.workers ?? 0) >= 2)) break;
        if (i > 1200) throw new Error('the two gmr worker processes never registered my-job');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await admin.close();
    }
    const args = ['run', job, '--input', logs, '--servers', gearmand.address, '--reducers', '2', '--split-size', '16k', '--quiet'];
    const out = ok(await run(gmr, args, bare), 'run on gearmand');
    expect(out).toBe(referenceBytesByStatus(filesIn(logs)));
  });

  it('says in one line that an installation without dist/ is broken, instead of falling back', async () => {
    rmSync(path.join(prefix, 'lib', 'node_modules', 'gmr', 'dist'), { recursive: true });
    const broken = await run(gmr, ['jobs'], bare);
    expect(broken.code).toBe(69);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^gmr: this installation has no compiled code \(.*dist\/src\/cli\/main\.js is missing\); reinstall the package\n$/);
  });
});
