/**
 * The compile cache of user .ts job modules (issue 15, fixed costs): a module and the .ts files it
 * imports are compiled once per content into one bundle in the user's private cache folder
 * (GMR_CACHE_DIR here), which later runs and every local worker load; a module that imports a
 * package goes through the module hooks, which keep one entry per file there. An entry is never
 * trusted by its name alone (another user's file, one others may read or write, a symlink, a body
 * that does not match its hash, or a bundle of a lib file that changed is compiled again), and a
 * folder others could change is not used at all. Counts come from python3.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGmr } from '../../helpers/gmr-cli.ts';

const JOB = `import { defineJob } from 'gmr';
import { N } from './lib/n.ts';
export default defineJob<string, string, number>({
  map(line, ctx) {
    for (const word of line.split(' ')) if (word !== '') ctx.emit(word, N);
  },
  reduce(_word, counts) {
    let sum = 0;
    for (const n of counts) sum += n;
    return sum;
  },
});
`;
const TEXT = 'b a c\na b\nc a d\n'.repeat(12) + 'e a\n';

const LIB = 'export const N: number = 1;\n';
let dir: string;
let job: string;
let input: string;
let reference: Map<string, number>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-compile-cache-'));
  job = join(dir, 'countwords.ts');
  input = join(dir, 'in.txt');
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'n.ts'), LIB);
  writeFileSync(job, JOB);
  writeFileSync(input, TEXT);
  // The same job importing a package of its own folder's node_modules: loaded through the hooks.
  mkdirSync(join(dir, 'pkg', 'node_modules', 'tiny-n'), { recursive: true });
  writeFileSync(join(dir, 'pkg', 'node_modules', 'tiny-n', 'package.json'), '{"name":"tiny-n","type":"module","exports":"./index.js"}');
  writeFileSync(join(dir, 'pkg', 'node_modules', 'tiny-n', 'index.js'), 'export const ONE = 1;\n');
  writeFileSync(join(dir, 'pkg', 'withpkg.ts'), JOB.replace("import { N } from './lib/n.ts';", "import { ONE } from 'tiny-n';\nconst N: number = ONE;"));
  const py = 'import collections,sys\nc=collections.Counter(w for l in open(sys.argv[1]) for w in l.split())\nfor w,n in c.items(): print(f"{w}\\t{n}")';
  reference = counts(execFileSync('python3', ['-c', py, input], { encoding: 'utf8' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counts(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const [word, n] = line.split('\t');
    map.set(word as string, Number(n));
  }
  return map;
}

function times(ref: Map<string, number>, k: number): Map<string, number> {
  return new Map([...ref].map(([w, n]) => [w, n * k]));
}

/** Two workers, two reducers, many map tasks (16-byte splits). */
async function run(cache: string, module = job): Promise<{ counts: Map<string, number>; stderr: string }> {
  const r = await runGmr(['run', module, '--input', input, '--workers', '2', '--reducers', '2', '--split-size', '16', '--quiet'], { env: { GMR_CACHE_DIR: cache } });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.code).toBe(0);
  return { counts: counts(r.stdout), stderr: r.stderr };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The only entry of a cache folder of that kind: its path, key (from the name), check line and body. */
function onlyEntry(cache: string, kind: '.bundle.mjs' | '.mjs'): { path: string; key: string; header: string; body: string } {
  const compiled = join(cache, 'compiled');
  const names = readdirSync(compiled).filter((n) => n.endsWith(kind) && (kind === '.bundle.mjs' || !n.endsWith('.bundle.mjs')));
  expect(names).toHaveLength(1);
  const path = join(compiled, names[0] as string);
  const text = readFileSync(path, 'utf8');
  const key = (names[0] as string).slice(0, -kind.length);
  if (kind === '.mjs') {
    // A file's entry: the check line first, then the code.
    const newline = text.indexOf('\n');
    return { path, key, header: text.slice(0, newline), body: text.slice(newline + 1) };
  }
  // A bundle: the code, then the check line last (so its source map's lines stay right).
  const newline = text.lastIndexOf('\n');
  return { path, key, header: text.slice(newline + 1), body: text.slice(0, newline + 1) };
}

/** A bundle as gmr writes it, holding code that emits 10 per word instead of 1. */
function doctoredBundle(entry: { key: string; header: string; body: string }): string {
  const body = entry.body.replace('var N = 1;', 'var N = 10;');
  expect(body).not.toBe(entry.body);
  const inputs = entry.header.split(' ').slice(3).join(' ');
  return `${body}//gmr-bundle ${entry.key} ${sha256(`${inputs}\n${body}`)} ${inputs}`;
}

describe('the compile cache of user .ts modules', () => {
  it('bundles a module and its .ts imports once into a private folder; later runs and their workers load that bundle', async () => {
    const cache = join(dir, 'cache-reuse');
    expect((await run(cache)).counts).toEqual(reference);
    expect(statSync(join(cache, 'compiled')).mode & 0o777).toBe(0o700);
    const entry = onlyEntry(cache, '.bundle.mjs');
    expect(statSync(entry.path).mode & 0o777).toBe(0o600);
    expect(entry.key).toMatch(/^[0-9a-f]{64}$/);
    const inputs = [[job, sha256(JOB)], [join(dir, 'lib', 'n.ts'), sha256(LIB)]];
    expect(entry.header).toBe(`//gmr-bundle ${entry.key} ${sha256(`${JSON.stringify(inputs)}\n${entry.body}`)} ${JSON.stringify(inputs)}`);
    expect(entry.body).not.toContain(': number');

    // A valid bundle of other code is what the next run executes: the workers read the cache.
    writeFileSync(entry.path, doctoredBundle(entry), { mode: 0o600 });
    expect((await run(cache)).counts).toEqual(times(reference, 10));
    // An imported file that changed makes a new bundle.
    writeFileSync(join(dir, 'lib', 'n.ts'), LIB.replace('= 1', '= 3'));
    try {
      expect((await run(cache)).counts).toEqual(times(reference, 3));
    } finally {
      writeFileSync(join(dir, 'lib', 'n.ts'), LIB);
    }
    // Node 22+ keeps V8's code cache in the same private folder; Node 20 has no such API.
    expect(existsSync(join(cache, 'v8'))).toBe(typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function');
  });

  it('compiles again instead of using an entry that does not match its hash, is a symlink, or that others may read', async () => {
    const cache = join(dir, 'cache-tampered');
    await run(cache);
    const entry = onlyEntry(cache, '.bundle.mjs');
    const good = doctoredBundle(entry);

    // The body changed but not the hash in its first line.
    writeFileSync(entry.path, `${entry.body.replace('var N = 1;', 'var N = 10;')}${entry.header}`, { mode: 0o600 });
    expect((await run(cache)).counts).toEqual(reference);
    expect(onlyEntry(cache, '.bundle.mjs').header).toBe(entry.header);

    // A valid entry that others may read and write.
    writeFileSync(entry.path, good);
    chmodSync(entry.path, 0o666);
    expect((await run(cache)).counts).toEqual(reference);

    // A symlink to a valid entry.
    const elsewhere = join(dir, 'planted.mjs');
    writeFileSync(elsewhere, good, { mode: 0o600 });
    rmSync(entry.path);
    symlinkSync(elsewhere, entry.path);
    expect((await run(cache)).counts).toEqual(reference);

    if (process.getuid?.() === 0) {
      // A valid entry that belongs to another user (nobody).
      rmSync(entry.path);
      writeFileSync(entry.path, good, { mode: 0o600 });
      chownSync(entry.path, 65534, 65534);
      expect((await run(cache)).counts).toEqual(reference);
      expect(statSync(entry.path).uid).toBe(0);
    }
  });

  it('keeps one checked entry per file for a module that imports a package (loaded through the hooks)', async () => {
    const cache = join(dir, 'cache-hooks');
    const withPackage = join(dir, 'pkg', 'withpkg.ts');
    expect((await run(cache, withPackage)).counts).toEqual(reference);
    expect(readdirSync(join(cache, 'compiled')).filter((n) => n.endsWith('.bundle.mjs'))).toEqual([]);
    const entry = onlyEntry(cache, '.mjs');
    expect(entry.header).toBe(`//gmr-compiled ${entry.key} ${sha256(entry.body)}`);
    const body = entry.body.replace('const N = ONE;', 'const N = ONE * 10;');
    expect(body).not.toBe(entry.body);
    writeFileSync(entry.path, `//gmr-compiled ${entry.key} ${sha256(body)}\n${body}`, { mode: 0o600 });
    expect((await run(cache, withPackage)).counts).toEqual(times(reference, 10));
    // Not its hash: compiled again.
    writeFileSync(entry.path, `${entry.header}\n${body}`, { mode: 0o600 });
    expect((await run(cache, withPackage)).counts).toEqual(reference);
  });

  it('does not use a cache folder that another user could change, and says so', async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const result = await run(join(open, 'cache'));
    expect(result.counts).toEqual(reference);
    expect(result.stderr).toContain(`gmr: not caching compiled job modules: others may write to ${open}`);
    expect(readdirSync(join(open, 'cache', 'compiled'))).toEqual([]);
  });
});
