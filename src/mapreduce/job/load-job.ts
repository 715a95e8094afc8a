/**
 * Finds and loads job modules.
 *
 * A name without '/' (or '\') and without an extension is a built-in job: a module in the `jobs/`
 * folder next to the package. From `src/mapreduce/job/load-job.ts` that is `<repo>/jobs/*.ts`; from the
 * compiled `dist/src/mapreduce/job/load-job.js` it is `dist/jobs/*.js`; `<name>.js` is tried first.
 * Anything else is a path relative to `cwd`: `.ts`/`.mts`/`.cts` load through tsx (so user modules
 * in TypeScript need no build step), `.js`/`.mjs`/`.cjs` through `import()`, both by import-module.ts,
 * which maps a module's `import … from 'gmr'` to the running gmr.
 * The module's default export must be a job definition: an object with a `map` function.
 */

import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { JobDefinitionError } from '../../errors.ts';
import type { JobOptions, LoadedJobDefinition } from './define-job.ts';
import { importModule } from './import-module.ts';
import { normalizeJob } from './job-steps.ts';
import { checkParams, type Params, type ParamValue } from './params.ts';
import { moduleHash } from './module-identity.ts';
import { builtinJobsDir } from './package-root.ts';

export interface LoadedJob {
  /**
   * The job's name: a built-in's name, or a module's file name without its extension
   * (`./jobs/top-referrers.ts` → `top-referrers`). Task functions are gmr.map.<name> and
   * gmr.reduce.<name>, so a driver and workers that name the module differently still agree.
   */
  name: string;
  /** The absolute path of the module file. */
  source: string;
  /** module-identity.ts: what tasks name so that a worker with another version refuses them. */
  sha256: string;
  builtin: boolean;
  definition: LoadedJobDefinition;
}

const BUILTIN_DIR = builtinJobsDir();
const BUILTIN_EXTENSIONS = ['.js', '.ts'];
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

export function isBuiltinName(nameOrPath: string): boolean {
  return !nameOrPath.includes('/') && !nameOrPath.includes('\\') && path.extname(nameOrPath) === '' && nameOrPath !== '';
}

export async function loadJob(nameOrPath: string, cwd: string = process.cwd()): Promise<LoadedJob> {
  let source: string;
  if (isBuiltinName(nameOrPath)) {
    const found = await findBuiltin(nameOrPath);
    if (found === undefined) {
      const available = (await builtinFiles()).map((f) => f.name);
      throw new JobDefinitionError(`Unknown job "${nameOrPath}"; available: ${available.join(', ')}`);
    }
    source = found;
  } else {
    source = path.resolve(cwd, nameOrPath);
    const ext = path.extname(source);
    if (!MODULE_EXTENSIONS.has(ext)) {
      throw new JobDefinitionError(`Job module ${source}: expected a .ts, .mts, .js or .mjs file, received "${ext || 'no extension'}"`);
    }
    if (!(await isFile(source))) throw new JobDefinitionError(`Job module not found: ${source}`);
    const name = path.basename(source, path.extname(source));
    // Task functions are named after the job: a user file named like a built-in would serve, or be
    // served by, the built-in's workers.
    if ((await findBuiltin(name)) !== undefined && path.dirname(source) !== path.resolve(BUILTIN_DIR)) {
      throw new JobDefinitionError(`Job module ${source} has the name of the built-in job ${name}; rename the file (its task functions would be gmr.map.${name}, the built-in's)`);
    }
  }
  const builtin = isBuiltinName(nameOrPath);
  const name = builtin ? nameOrPath : path.basename(source, path.extname(source));
  const definition = await importDefinition(source);
  const sha256 = await moduleHash(source, builtin ? name : undefined);
  return { name, source, sha256, builtin, definition };
}

/** The built-in jobs with their descriptions, sorted by name. */
export async function listBuiltinJobs(): Promise<Array<{ name: string; description: string }>> {
  const jobs: Array<{ name: string; description: string }> = [];
  for (const { name, file } of await builtinFiles()) {
    const def = await importDefinition(file);
    jobs.push({ name, description: def.description ?? '' });
  }
  return jobs;
}

/**
 * Applies the job's param types and defaults to `given` and checks it (see checkParams): a bad
 * value, a missing required param or an unknown name is a UsageError naming it.
 */
export function resolveParams<D extends Pick<JobOptions, 'params'>>(
  def: D,
  given: Readonly<Record<string, ParamValue>>,
  jobName = 'this job',
): Params {
  return checkParams(def.params, given, jobName);
}

async function findBuiltin(name: string): Promise<string | undefined> {
  for (const ext of BUILTIN_EXTENSIONS) {
    const file = path.join(BUILTIN_DIR, name + ext);
    if (await isFile(file)) return file;
  }
  return undefined;
}

/** Job modules directly in the jobs folder (not lib/, not .d.ts), one per name, sorted. */
async function builtinFiles(): Promise<Array<{ name: string; file: string }>> {
  let entries: string[];
  try {
    entries = await fsp.readdir(BUILTIN_DIR);
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const entry of entries) {
    if (entry.endsWith('.d.ts')) continue;
    const ext = path.extname(entry);
    if (BUILTIN_EXTENSIONS.includes(ext)) names.add(entry.slice(0, -ext.length));
  }
  const files: Array<{ name: string; file: string }> = [];
  for (const name of [...names].sort()) {
    const file = await findBuiltin(name);
    if (file !== undefined) files.push({ name, file });
  }
  return files;
}

async function isFile(file: string): Promise<boolean> {
  try {
    await fsp.access(file, fsConstants.R_OK);
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function importDefinition(file: string): Promise<LoadedJobDefinition> {
  let mod: unknown;
  try {
    mod = await importModule(file);
  } catch (err) {
    throw new JobDefinitionError(`Job module ${file} failed to load: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  let def = (mod as { default?: unknown } | null)?.default;
  // A .ts file outside an ESM package compiles as CommonJS: its `export default` then arrives as
  // module.exports.default, one level down.
  if (typeof def === 'object' && def !== null && !('map' in def) && !('mapBytes' in def) && !('steps' in def) && 'default' in def) {
    def = (def as { default: unknown }).default;
  }
  if (typeof def !== 'object' || def === null || !(hasMapFunction(def) || 'steps' in def)) {
    throw new JobDefinitionError(
      `Job module ${file}: expected a default export made with defineJob({ map, ... }) or defineJob({ steps: [...] }) (an object with a map or mapBytes function, or steps), received ${describe(def)}`,
    );
  }
  return normalizeJob(def as object, `Job module ${file}`);
}

function hasMapFunction(def: object): boolean {
  const { map, mapBytes } = def as { map?: unknown; mapBytes?: unknown };
  return typeof map === 'function' || typeof mapBytes === 'function';
}

function describe(value: unknown): string {
  if (value === undefined) return 'default export is undefined (no `export default`)';
  if (value === null) return 'default export is null';
  if (typeof value === 'function') return 'default export is a function (call defineJob with an object, do not export a factory)';
  if (typeof value !== 'object') return `default export is a ${typeof value} (${String(value).slice(0, 40)})`;
  const keys = Object.keys(value);
  return `default export is an object without a map or mapBytes function or steps (keys: ${keys.length > 0 ? keys.join(', ') : 'none'})`;
}
