/**
 * Turns the user's input arguments (files, folders, globs) into the sorted list of files a run
 * reads. Hidden names ('.') and names starting with '_' (`_SUCCESS`, `_temporary`, `_logs`) are
 * skipped below a folder or glob, as Hadoop's FileInputFormat does, so a previous run's output
 * folder can be used as input. A file named explicitly is always taken.
 */

import { accessSync, constants, promises as fsp, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type FastGlob from 'fast-glob';
import { InputError } from '../../errors.ts';
import type { InputIdentity } from './input-identity.ts';
import { inBatches } from './sync-batches.ts';

/** A file of the run's input: its identity (absolute path, size, mtime, device, inode, ctime) and how to read it. */
export interface InputFile extends InputIdentity {
  /** The name ends with `.gz`: the file is read whole, through gunzip. */
  compressed: boolean;
}

/**
 * Files, folders (recursive) and globs (fast-glob; a glob selects files, not folders). Result
 * sorted by path (code-unit order), de-duplicated. Throws InputError for a missing path, a glob
 * that matches nothing, and an unreadable file or folder; empty files are fine.
 */
export async function resolveInputs(patterns: string[], cwd: string = process.cwd()): Promise<InputFile[]> {
  if (patterns.length === 0) throw new InputError('No input paths given');
  const found = new Map<string, InputFile>();
  for (const pattern of patterns) {
    for (const file of await resolvePattern(pattern, cwd)) found.set(file.path, file);
  }
  // Empty files are input like any other (Hadoop and mrjob commit an empty output for them), but
  // paths that hold no file at all (empty folders) match nothing.
  if (found.size === 0) throw new InputError(`Input has no files: ${patterns.join(', ')} (empty folders)`);
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The folders and files a run's inputs lie below, for its local workers' --input-root: each
 * argument that exists as it is, else a glob's fixed leading folders; plus any input file that a
 * symlink leads out of them (a worker resolves symlinks before it checks a path against its roots).
 */
export async function inputRoots(patterns: string[], files: readonly InputFile[], cwd: string = process.cwd()): Promise<string[]> {
  const roots = new Set<string>();
  for (const pattern of patterns) {
    // A path that exists is the input as it is (resolvePattern takes it literally); only a glob needs fast-glob.
    const exists = await fsp.stat(path.resolve(cwd, pattern)).then(() => true, () => false);
    const fg = exists ? undefined : await fastGlob();
    if (fg === undefined || !fg.isDynamicPattern(pattern)) {
      roots.add(path.resolve(cwd, pattern));
      continue;
    }
    const segments = pattern.split('/');
    let baseLength = segments.findIndex((segment) => segment !== '' && fg.isDynamicPattern(segment));
    if (baseLength < 0) baseLength = segments.length;
    roots.add(path.resolve(cwd, segments.slice(0, baseLength).join('/') || '.'));
  }
  const real = await Promise.all([...roots].map((root) => fsp.realpath(root).catch(() => root)));
  const inside = (file: string): boolean => real.some((root) => file === root || file.startsWith(`${root}${path.sep}`));
  const outside = await inBatches(files, (file) => !inside(realPathOr(file.path)));
  files.forEach((file, i) => {
    if (outside[i]) roots.add(file.path);
  });
  return [...roots];
}

/** The real path of a file, or the path itself when it cannot be resolved (gone since). */
function realPathOr(file: string): string {
  try {
    return realpathSync.native(file);
  } catch {
    return file;
  }
}

/** fast-glob, loaded when a run's input is a glob: every other run (and every worker) skips its ~20 modules. */
async function fastGlob(): Promise<typeof FastGlob> {
  return (await import('fast-glob')).default;
}

async function resolvePattern(pattern: string, cwd: string): Promise<InputFile[]> {
  if (pattern === '') throw new InputError('Input path is an empty string');
  const absolute = path.resolve(cwd, pattern);
  // A path that exists is taken literally, even if it contains glob characters (`data[1].txt`).
  const stats = await statOrNull(absolute, pattern);
  if (stats === null) {
    if ((await fastGlob()).isDynamicPattern(pattern)) return resolveGlob(pattern, cwd);
    throw new InputError(`Input path not found: ${pattern}`);
  }
  if (stats.isDirectory()) return walkFolder(absolute);
  if (stats.isFile()) return [toInputFile(absolute, stats)];
  throw new InputError(`Input path is neither a file nor a folder: ${pattern}`);
}

async function resolveGlob(pattern: string, cwd: string): Promise<InputFile[]> {
  const fg = await fastGlob();
  const segments = pattern.split('/');
  let baseLength = segments.findIndex((segment) => segment !== '' && fg.isDynamicPattern(segment));
  if (baseLength < 0) baseLength = segments.length;
  const base = path.resolve(cwd, segments.slice(0, baseLength).join('/') || '.');
  // `data/_*.txt` asks for underscored names explicitly; `data/**/*.txt` does not.
  const underscoreWanted = segments.slice(baseLength).some((segment) => segment.startsWith('_'));

  let matches: string[];
  try {
    matches = await fg(pattern, { cwd, absolute: true, onlyFiles: true, dot: false, unique: true });
  } catch (error) {
    throw new InputError(`Cannot expand input glob ${pattern}: ${errorMessage(error)}`, { cause: error });
  }
  const files: string[] = [];
  for (const match of matches) {
    const file = path.resolve(match);
    if (!underscoreWanted && path.relative(base, file).split(path.sep).some((name) => name.startsWith('_'))) continue;
    files.push(file);
  }
  if (files.length === 0) throw new InputError(`Input glob matched no files: ${pattern}`);
  return inBatches(files, (file) => toInputFile(file, statInput(file)));
}

/** Every file below `root`, skipping hidden and `_` names; symlinks are followed, loops broken. */
async function walkFolder(root: string): Promise<InputFile[]> {
  const files: InputFile[] = [];
  const seenFolders = new Set<string>();
  const visit = async (folder: string, stats: Stats): Promise<void> => {
    const id = `${stats.dev}:${stats.ino}`;
    if (seenFolders.has(id)) return;
    seenFolders.add(id);
    let names: string[];
    try {
      names = await fsp.readdir(folder);
    } catch (error) {
      throw new InputError(`Cannot read input folder ${folder}: ${errorMessage(error)}`, { cause: error });
    }
    const folders: Array<[string, Stats]> = [];
    await inBatches(
      names.filter((name) => !name.startsWith('.') && !name.startsWith('_')),
      (name) => {
        const child = path.join(folder, name);
        const childStats = statInput(child);
        if (childStats.isDirectory()) folders.push([child, childStats]);
        else if (childStats.isFile()) files.push(toInputFile(child, childStats));
        // Sockets, FIFOs and devices inside a folder are not input.
      },
    );
    for (const [child, childStats] of folders) await visit(child, childStats);
  };
  await visit(root, statInput(root));
  return files;
}

function toInputFile(file: string, stats: Stats): InputFile {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw new InputError(`Input file is not readable: ${file}: ${errorMessage(error)}`, { cause: error });
  }
  return {
    path: file,
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    dev: stats.dev,
    ino: stats.ino,
    ctimeMs: stats.ctimeMs,
    compressed: file.toLowerCase().endsWith('.gz'),
  };
}

async function statOrNull(file: string, shownAs: string): Promise<Stats | null> {
  try {
    return await fsp.stat(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    throw new InputError(`Cannot read input path ${shownAs}: ${errorMessage(error)}`, { cause: error });
  }
}

function statInput(file: string): Stats {
  try {
    return statSync(file);
  } catch (error) {
    throw new InputError(`Cannot read input path ${file}: ${errorMessage(error)}`, { cause: error });
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
