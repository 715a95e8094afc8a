/**
 * Imports job modules (the one place that does), with `'gmr'` and `'gmr/…'` mapped to the running gmr.
 *
 * A job module may sit anywhere on disk: next to a `node_modules/gmr` of another version, or in a
 * folder without any `node_modules`. Either way its `import … from 'gmr'` must reach the gmr that
 * runs it, never a second copy and never "Cannot find module 'gmr'". So before the first user
 * module loads, Node module hooks (`module.register`, job-module-hooks.ts) are installed that
 * answer the bare name and each subpath of this package's `exports` with the file of this very
 * package — the `dist/` files when gmr runs compiled, the `src/` files when it runs from its
 * TypeScript sources — so a job gets the module instances the running gmr already holds. Any other
 * `gmr/…` subpath is an error naming the ones that exist. A `.ts`/`.mts` module outside
 * `node_modules` is always an ES module (as a job module's `export default` is), even in a folder
 * whose package.json says CommonJS or that has none: compiled to CommonJS, its `require('gmr')`
 * would bypass the hook. (`.cts` stays CommonJS, loads through tsx and resolves `gmr` Node's way.)
 *
 * Compiled gmr transpiles `.ts`/`.mts` modules itself (esbuild, in the hooks), once per content:
 * the user's cache folder (compile-cache.ts) keeps the result for every later run and for every
 * local worker, so a run of a user module costs about what a built-in's does. The built-ins of
 * compiled gmr need no hook at all (see importModule). When gmr runs from its sources the host
 * already runs TypeScript (vitest, or bin/gmr.js's tsx fallback in a checkout without a build).
 */
import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { privateCacheDir } from './compile-cache.ts';
import { JOB_MODULE_HOOKS } from './job-module-hooks.ts';
import { bundledModule } from './module-bundle.ts';
import { builtinJobsDir, packageRoot, RUNS_FROM_SOURCE, runningEntry, runsFromBundle } from './package-root.ts';

let mapped = false;
let tsxRegistered = false;

/** Imports a job module file (absolute path) and returns its namespace object. */
export async function importModule(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  // A built-in of compiled gmr (dist/jobs/*.js) reaches 'gmr' through the package's own `exports`
  // (a package may import itself by name), which is the running copy, and a bundled one
  // (dist/bundle/jobs/*.js) has it bound to the bundle's modules at build time: no hook is needed, and none
  // is installed, since hooks run on a loader thread that every later import of the process waits on.
  if (isCompiledBuiltin(file)) return (await import(url)) as unknown;
  if (!RUNS_FROM_SOURCE) {
    await prepareForUserModules();
    // Most .ts modules load as one bundle that needs no hooks (module-bundle.ts).
    const compile = compileOptions();
    const bundle = /\.m?ts$/.test(file) && compile ? await bundledModule(file, { ...compile, ...gmrEntries() }) : undefined;
    if (bundle !== undefined) return (await import(pathToFileURL(bundle).href)) as unknown;
  }
  mapGmrSpecifiers();
  if (path.extname(file) === '.cts' && !RUNS_FROM_SOURCE && !tsxRegistered) {
    // tsx as one process-wide loader, not tsImport(): tsImport tags every module its import
    // reaches with a namespace query, so 'gmr' would load a second time beside the running one.
    // Its own disk cache is in the shared temporary folder: off.
    process.env['TSX_DISABLE_CACHE'] = '1';
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    tsxRegistered = true;
  }
  return (await import(url)) as unknown;
}

let prepared = false;

/**
 * gmr's own modules first, before any hook: they then load without a trip to the loader thread
 * each, and source maps (turned on here, so that stacks of job code name the user's source lines)
 * are read for the user's modules only.
 */
async function prepareForUserModules(): Promise<void> {
  if (prepared) return;
  prepared = true;
  const { specifiers, jobApi } = gmrEntries();
  await import(jobApi?.url ?? (specifiers['gmr'] as string));
  process.setSourceMapsEnabled(true);
}

/** A file of dist/jobs/ (or dist/bundle/jobs/) of the running, compiled gmr. */
function isCompiledBuiltin(file: string): boolean {
  return !RUNS_FROM_SOURCE && path.extname(file) === '.js' && file.startsWith(builtinJobsDir() + path.sep);
}

/**
 * The package's root folder (holding its package.json) and its `exports` as bare specifiers mapped
 * to file URLs of the running copy: `{ 'gmr': '…/dist/src/index.js', 'gmr/protocol': … }`.
 */
function gmrSpecifiers(): { root: string; specifiers: Record<string, string> } {
  const root = packageRoot();
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { default: string }>;
  };
  const specifiers: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const file = runningEntry(typeof target === 'string' ? target : target.default);
    const name = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    specifiers[name] = pathToFileURL(path.join(root, file)).href;
  }
  return { root, specifiers };
}

let jobApi: { url: string; names: string[] } | undefined | null = null;

/** The `'gmr'` URLs for a user module's bundle, and the bundled gmr's job API entry (scripts/bundle.mjs). */
function gmrEntries(): { specifiers: Record<string, string>; jobApi?: { url: string; names: string[] } } {
  if (jobApi === null) {
    jobApi = undefined;
    const file = path.join(packageRoot(), 'dist', 'bundle', 'job-api.js');
    // Its names, as scripts/bundle.mjs wrote them; without them, the full entry serves.
    if (runsFromBundle()) {
      const names: unknown = JSON.parse(readFileSync(path.join(packageRoot(), 'dist', 'bundle', 'job-api.json'), 'utf8'));
      if (Array.isArray(names) && names.every((n) => typeof n === 'string')) jobApi = { url: pathToFileURL(file).href, names };
    }
  }
  return { specifiers: gmrSpecifiers().specifiers, ...(jobApi === undefined ? {} : { jobApi }) };
}

/** Installs the hooks once per process (a worker thread's hooks are the process's). */
function mapGmrSpecifiers(): void {
  if (mapped) return;
  mapped = true;
  const { root, specifiers } = gmrSpecifiers();
  register(`data:text/javascript,${encodeURIComponent(JOB_MODULE_HOOKS)}`, { data: { root, specifiers, compile: compileOptions() } });
}

interface CompileOptions {
  id: string;
  esbuild: string;
  dir: string | undefined;
  uid: number;
}
let compiling: CompileOptions | undefined;

/** What TypeScript is compiled with, and where it is kept; none when gmr runs from its sources. */
function compileOptions(): CompileOptions | undefined {
  if (RUNS_FROM_SOURCE) return undefined;
  compiling ??= findCompileOptions();
  return compiling;
}

function findCompileOptions(): CompileOptions {
  const require = createRequire(import.meta.url);
  const esbuild = require.resolve('esbuild');
  const { version } = JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')) as { version: string };
  const cache = privateCacheDir('compiled');
  // Not fatal: every process then compiles for itself; but someone else's folder is worth a line.
  if (cache.dir === undefined) process.stderr.write(`gmr: not caching compiled job modules: ${cache.problem}\n`);
  return { id: `esbuild ${version} node${process.versions.node.split('.')[0]}`, esbuild, dir: cache.dir, uid: process.getuid?.() ?? -1 };
}
