/**
 * Imports job modules (the one place that does), with `'gmr'` and `'gmr/…'` mapped to the running gmr.
 *
 * A job module may sit anywhere on disk: next to a `node_modules/gmr` of another version, or in a
 * folder without any `node_modules`. Either way its `import … from 'gmr'` must reach the gmr that
 * runs it, never a second copy and never "Cannot find module 'gmr'". So before the first job module
 * loads, a Node module resolve hook (`module.register`) is installed that answers the bare name and
 * each subpath of this package's `exports` with the file of this very package — the `dist/` files
 * when gmr runs compiled, the `src/` files when it runs from its TypeScript sources — so a job gets
 * the module instances the running gmr already holds. Any other `gmr/…` subpath is an error naming
 * the ones that exist. Other specifiers go on to Node's own resolution (and tsx's). A `.ts`/`.mts`
 * module outside `node_modules` is always an ES module (as a job module's `export default` is),
 * even in a folder whose package.json says CommonJS or that has none: compiled to CommonJS, its
 * `require('gmr')` would bypass the hook. (`.cts` stays CommonJS and resolves `gmr` Node's way.)
 *
 * `.ts` job modules compile through tsx (no build step); `.js` ones load with `import()`.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How the running gmr loads: compiled (`dist/src/…/*.js`) or from its sources through a TS-aware host. */
const RUNS_FROM_SOURCE = import.meta.url.endsWith('.ts');
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

let mapped = false;
let tsxRegistered = false;

/** Imports a job module file (absolute path) and returns its namespace object. */
export async function importModule(file: string): Promise<unknown> {
  mapGmrSpecifiers();
  if (TS_EXTENSIONS.has(path.extname(file)) && !RUNS_FROM_SOURCE && !tsxRegistered) {
    // tsx as one process-wide loader, not tsImport(): tsImport tags every module its import
    // reaches with a namespace query, so 'gmr' would load a second time beside the running one.
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    tsxRegistered = true;
  }
  // When gmr itself runs from its sources, the host already runs TypeScript (vitest, or
  // bin/gmr.js's tsx fallback in a checkout without a build).
  return (await import(pathToFileURL(file).href)) as unknown;
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
    let file = typeof target === 'string' ? target : target.default;
    // Running from sources: dist/src/x/index.js was compiled from src/x/index.ts.
    if (RUNS_FROM_SOURCE && file.startsWith('./dist/')) file = `./${file.slice('./dist/'.length).replace(/\.js$/, '.ts')}`;
    const name = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    specifiers[name] = pathToFileURL(path.join(root, file)).href;
  }
  return { root, specifiers };
}

/** Installs the resolve hook once per process (a worker thread's hooks are the process's). */
function mapGmrSpecifiers(): void {
  if (mapped) return;
  mapped = true;
  const { root, specifiers } = gmrSpecifiers();
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`, { data: { root, specifiers } });
}

/** The folder above this file that holds gmr's package.json (src/mapreduce/job → 3 up, dist/src/… → 4). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (name === 'gmr') return dir;
    } catch {
      // no package.json here
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json of gmr above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The hook module, run by Node on its loader thread. Plain JavaScript in a data: URL, so it loads
 * the same way whether gmr runs compiled, from its sources, or inside vitest.
 */
const RESOLVE_HOOK = `
let root = '';
let specifiers = new Map();
export function initialize(data) {
  root = data.root;
  specifiers = new Map(Object.entries(data.specifiers));
}
export async function resolve(specifier, context, nextResolve) {
  const url = specifiers.get(specifier);
  // Resolved on from the file's own URL, so the next hooks (tsx) and Node name its format.
  if (url !== undefined) return nextResolve(url, context);
  if (specifier.startsWith('gmr/')) {
    const known = [...specifiers.keys()].join(', ');
    throw new Error('Cannot import "' + specifier + '": the running gmr (' + root + ') exports ' + known);
  }
  const resolved = await nextResolve(specifier, context);
  // A .ts/.mts module outside node_modules is an ES module even where no package.json says
  // "type": "module" (a job in /srv/jobs/), so its 'gmr' import comes back through this hook.
  if (/^file:[^?#]*\\.m?ts([?#]|$)/.test(resolved.url) && !resolved.url.includes('/node_modules/') &&
      (resolved.format == null || resolved.format === 'commonjs' || resolved.format === 'commonjs-typescript')) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}
`;
