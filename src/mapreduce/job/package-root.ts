/**
 * Where the running gmr package is on disk, found by walking up from this module to the
 * package.json named gmr: the same answer from src/ (sources), dist/src/ (tsc output) and
 * dist/bundle/ (the esbuild bundle bin/gmr.js loads, scripts/bundle.mjs), so no lookup depends on
 * how deep a file sits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** gmr runs from its TypeScript sources (vitest, tsx) rather than from compiled dist/. */
export const RUNS_FROM_SOURCE = import.meta.url.endsWith('.ts');

let found: { root: string; version: string } | undefined;
let bundled: boolean | undefined;

function find(): { root: string; version: string } {
  const here = fileURLToPath(import.meta.url);
  let dir = path.dirname(here);
  for (;;) {
    try {
      const { name, version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (name === 'gmr') return { root: dir, version: typeof version === 'string' ? version : 'unknown' };
    } catch {
      // no package.json here
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json of gmr above ${here}`);
    dir = parent;
  }
}

/** The folder that holds gmr's package.json. */
export function packageRoot(): string {
  found ??= find();
  return found.root;
}

/** gmr's package version ('unknown' when its package.json has none). */
export function packageVersion(): string {
  found ??= find();
  return found.version;
}

/** This code is the esbuild bundle (dist/bundle/), not tsc's one-file-per-module dist/src/. */
export function runsFromBundle(): boolean {
  bundled ??= fileURLToPath(import.meta.url).startsWith(path.join(packageRoot(), 'dist', 'bundle') + path.sep);
  return bundled;
}

/**
 * The folder of the built-in jobs this gmr runs: jobs/ (sources), dist/jobs/ (tsc) or
 * dist/bundle/jobs/ (bundled, their `import … from 'gmr'` bound to the bundle's own modules).
 */
export function builtinJobsDir(): string {
  if (RUNS_FROM_SOURCE) return path.join(packageRoot(), 'jobs');
  return path.join(packageRoot(), 'dist', ...(runsFromBundle() ? ['bundle'] : []), 'jobs');
}

/**
 * The file a package entry (`./dist/src/index.js`, as package.json's `exports` names it) is
 * built from or into for the code that runs: src/index.ts, dist/src/index.js or dist/bundle/index.js.
 */
export function runningEntry(exported: string): string {
  if (RUNS_FROM_SOURCE) return exported.replace(/^\.\/dist\/src\//, './src/').replace(/\.js$/, '.ts');
  if (runsFromBundle()) return exported.replace(/^\.\/dist\/src\//, './dist/bundle/');
  return exported;
}
