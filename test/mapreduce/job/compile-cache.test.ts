/**
 * The compile cache of user .ts job modules (issue 15, fixed costs): a module is transpiled once
 * per content into the user's private cache folder (GMR_CACHE_DIR here), and later runs and every
 * local worker use that entry; an entry is never trusted by its name alone (another user's file,
 * one others may read or write, a symlink, or a body that does not match its hash is compiled
 * again), and a folder others could change is not used at all. Counts come from python3.
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
const N: number = 1;
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

let dir: string;
let job: string;
let input: string;
let reference: Map<string, number>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-compile-cache-'));
  job = join(dir, 'countwords.ts');
  input = join(dir, 'in.txt');
  writeFileSync(job, JOB);
  writeFileSync(input, TEXT);
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
async function run(cache: string): Promise<{ counts: Map<string, number>; stderr: string }> {
  const r = await runGmr(['run', job, '--input', input, '--workers', '2', '--reducers', '2', '--split-size', '16', '--quiet'], { env: { GMR_CACHE_DIR: cache } });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.code).toBe(0);
  return { counts: counts(r.stdout), stderr: r.stderr };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The only entry of a cache folder: its path, key (from the name) and body. */
function onlyEntry(cache: string): { path: string; key: string; header: string; body: string } {
  const compiled = join(cache, 'compiled');
  const names = readdirSync(compiled).filter((n) => n.endsWith('.mjs'));
  expect(names).toHaveLength(1);
  const path = join(compiled, names[0] as string);
  const text = readFileSync(path, 'utf8');
  const newline = text.indexOf('\n');
  return { path, key: (names[0] as string).slice(0, -4), header: text.slice(0, newline), body: text.slice(newline + 1) };
}

/** An entry as gmr writes it, with a body that emits 10 per word instead of 1. */
function doctored(entry: { key: string; body: string }): string {
  const body = entry.body.replace('const N = 1;', 'const N = 10;');
  expect(body).not.toBe(entry.body);
  return `//gmr-compiled ${entry.key} ${sha256(body)}\n${body}`;
}

describe('the compile cache of user .ts modules', () => {
  it('transpiles a module once into a private folder, and later runs and their workers use that entry', async () => {
    const cache = join(dir, 'cache-reuse');
    expect((await run(cache)).counts).toEqual(reference);
    expect(statSync(join(cache, 'compiled')).mode & 0o777).toBe(0o700);
    const entry = onlyEntry(cache);
    expect(statSync(entry.path).mode & 0o777).toBe(0o600);
    expect(entry.key).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.header).toBe(`//gmr-compiled ${entry.key} ${sha256(entry.body)}`);
    expect(entry.body).not.toContain(': number');

    // A valid entry of other code is what the next run executes: the workers read the cache.
    writeFileSync(entry.path, doctored(entry), { mode: 0o600 });
    expect((await run(cache)).counts).toEqual(times(reference, 10));
    // Node 22+ keeps V8's code cache in the same private folder; Node 20 has no such API.
    expect(existsSync(join(cache, 'v8'))).toBe(typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function');
  });

  it('compiles again instead of using an entry that does not match its hash, is a symlink, or that others may read', async () => {
    const cache = join(dir, 'cache-tampered');
    await run(cache);
    const entry = onlyEntry(cache);
    const good = doctored(entry);

    // The body changed but not the hash in its first line.
    writeFileSync(entry.path, `${entry.header}\n${entry.body.replace('const N = 1;', 'const N = 10;')}`, { mode: 0o600 });
    expect((await run(cache)).counts).toEqual(reference);
    expect(onlyEntry(cache).header).toBe(entry.header);

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
