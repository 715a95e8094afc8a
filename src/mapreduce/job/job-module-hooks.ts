/**
 * The source text of the module resolve/load hooks that import-module.ts installs (run by Node on
 * its loader thread): plain JavaScript in a data: URL, so it loads the same way whether gmr runs
 * compiled, from its sources, or inside vitest.
 *
 * resolve: `'gmr'` and `'gmr/…'` go to the running gmr; a `.ts`/`.mts` file outside node_modules
 * is an ES module; with compiling on, `./x.js` from a TypeScript module may name `./x.ts`.
 * load (compiling on, i.e. gmr runs compiled): a `.ts`/`.mts` file is transpiled with esbuild
 * (types stripped, inline source map) once per content: the result is kept in the user's private
 * cache folder (compile-cache.ts) as `<key>.mjs`, key = SHA-256 of the compiler, the file's path
 * and its bytes. An entry is used only if it is a regular file of this user, mode 0600, whose
 * first line names the same key and the SHA-256 of the rest; anything else is compiled again.
 */
export const JOB_MODULE_HOOKS = `
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TS_URL = /^file:[^?#]*\\.m?ts([?#]|$)/;
let root = '';
let specifiers = new Map();
let compile;
let esbuild;

export function initialize(data) {
  root = data.root;
  specifiers = new Map(Object.entries(data.specifiers));
  compile = data.compile;
}

export async function resolve(specifier, context, nextResolve) {
  const url = specifiers.get(specifier);
  // Resolved on from the file's own URL, so the next hooks (tsx) and Node name its format.
  if (url !== undefined) return nextResolve(url, context);
  if (specifier.startsWith('gmr/')) {
    const known = [...specifiers.keys()].join(', ');
    throw new Error('Cannot import "' + specifier + '": the running gmr (' + root + ') exports ' + known);
  }
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (error) {
    const other = compile && error && error.code === 'ERR_MODULE_NOT_FOUND' ? typescriptName(specifier, context.parentURL) : undefined;
    if (other === undefined) throw error;
    resolved = await nextResolve(other, context).catch(() => { throw error; });
  }
  // A .ts/.mts module outside node_modules is an ES module even where no package.json says
  // "type": "module" (a job in /srv/jobs/), so its 'gmr' import comes back through this hook.
  if (TS_URL.test(resolved.url) && !resolved.url.includes('/node_modules/') &&
      (resolved.format == null || resolved.format === 'commonjs' || resolved.format === 'commonjs-typescript')) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}

/** TypeScript's convention: in a .ts module, './x.js' is './x.ts' (and './x' may be too). */
function typescriptName(specifier, parentURL) {
  if (!/^\\.{1,2}\\//.test(specifier) || parentURL === undefined || !TS_URL.test(parentURL)) return undefined;
  if (specifier.endsWith('.js')) return specifier.slice(0, -3) + '.ts';
  if (specifier.endsWith('.mjs')) return specifier.slice(0, -4) + '.mts';
  if (path.extname(specifier) === '') return specifier + '.ts';
  return undefined;
}

export async function load(url, context, nextLoad) {
  if (!compile || !TS_URL.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  return { format: 'module', source: compiled(file, readFileSync(file, 'utf8')), shortCircuit: true };
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function compiled(file, source) {
  const key = sha256(compile.id + '\\0' + file + '\\0' + source);
  const entry = compile.dir === undefined ? undefined : path.join(compile.dir, key + '.mjs');
  const cached = entry === undefined ? undefined : readEntry(entry, key);
  if (cached !== undefined) return cached;
  esbuild ??= createRequire(compile.esbuild)(compile.esbuild);
  const code = esbuild.transformSync(source, {
    loader: 'ts',
    format: 'esm',
    sourcemap: 'inline',
    sourcefile: file,
    target: 'node' + process.versions.node.split('.')[0],
  }).code;
  if (entry !== undefined) writeEntry(entry, key, code);
  return code;
}

function readEntry(entry, key) {
  let fd;
  try {
    fd = openSync(entry, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.uid !== compile.uid || (stats.mode & 0o077) !== 0) return undefined;
    const text = readFileSync(fd, 'utf8');
    const newline = text.indexOf('\\n');
    const [tag, named, digest] = text.slice(0, newline).split(' ');
    const body = text.slice(newline + 1);
    if (newline < 0 || tag !== '//gmr-compiled' || named !== key || digest !== sha256(body)) return undefined;
    return body;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function writeEntry(entry, key, code) {
  // A new file of its own, then renamed over the entry: a reader sees the old entry or the whole new one.
  const temporary = entry + '.' + randomBytes(6).toString('hex') + '.tmp';
  try {
    writeFileSync(temporary, '//gmr-compiled ' + key + ' ' + sha256(code) + '\\n' + code, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, entry);
  } catch {
    try { unlinkSync(temporary); } catch {}
  }
}
`;
