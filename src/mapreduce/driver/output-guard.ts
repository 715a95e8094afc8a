/**
 * What a run may write to and replace: `--overwrite` never deletes user data. The output folder
 * must not overlap an input (be it, lie inside it or contain it, after resolving symlinks), and
 * an existing non-empty folder is replaced only when it is a previous gmr output: nothing in it
 * but part files and gmr's `_` names, with a `_SUCCESS` or a `_temporary` of gmr's.
 */
import { realpathSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OutputError, UsageError } from '../../errors.ts';
import { RUN_FOLDERS } from './output-commit.ts';
import { inBatches } from './sync-batches.ts';

const GMR_ENTRY = /^(part-\d{5,}|_.*)$/;

function inside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`);
}

/** The path with symlinks resolved, as far as it exists (an output folder may not exist yet). */
function resolved(file: string): string {
  try {
    return realpathSync.native(file);
  } catch {
    const parent = path.dirname(file);
    return parent === file ? file : path.join(resolved(parent), path.basename(file));
  }
}

function listed(entries: string[]): string {
  return `${entries.slice(0, 3).join(', ')}${entries.length > 3 ? `, … (${entries.length} in all)` : ''}`;
}

/**
 * Refuses an output folder that overlaps an input (with --overwrite the run would delete it), a
 * non-empty folder without --overwrite, and with --overwrite a folder gmr did not write.
 */
export async function checkOutputDir(dir: string, overwrite: boolean, inputs: readonly string[] = []): Promise<void> {
  const out = resolved(dir);
  // Every input file as well as every argument: a symlink in an input folder may lead anywhere.
  const reals = await inBatches(inputs, resolved);
  for (const [i, input] of inputs.entries()) {
    const real = reals[i] as string;
    // Nothing lies inside a file: an output below an input file cannot be created (and says so later).
    const inInput = out !== real && inside(out, real) && (await stat(real).then((s) => s.isDirectory()).catch(() => false));
    if (out === real || inInput || inside(real, out)) {
      const how = out === real ? 'is' : inside(out, real) ? 'is inside' : 'contains';
      throw new UsageError(`Output folder ${dir} ${how} the input ${input}: choose an output folder apart from the inputs${overwrite ? ' (--overwrite would delete the input)' : ''}`);
    }
  }
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UsageError(`Output path ${dir} exists and is not a folder`);
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (error instanceof UsageError) throw error;
    throw new OutputError(`Cannot use ${dir} as the output folder: ${(error as Error).message}`, { cause: error });
  }
  const visible = entries.filter((e) => !RUN_FOLDERS.includes(e));
  if (visible.length === 0) return;
  if (!overwrite) {
    throw new UsageError(`Output folder ${dir} is not empty (${listed(visible)}); use --overwrite to replace a previous gmr output`);
  }
  const foreign = entries.filter((e) => !GMR_ENTRY.test(e));
  if (foreign.length > 0) {
    throw new UsageError(
      `--overwrite replaces only a previous gmr output, and ${dir} holds what gmr did not write: ${listed(foreign)}; move them away or choose another output folder`,
    );
  }
  if (!entries.includes('_SUCCESS') && !RUN_FOLDERS.some((f) => entries.includes(f))) {
    throw new UsageError(`--overwrite replaces only a previous gmr output, and ${dir} has no _SUCCESS or _temporary of gmr's; remove it yourself if it is yours to lose`);
  }
}
