/**
 * What a task may open: map inputs only below the worker's input roots (after resolving symlinks),
 * reduce runs only inside the task's own run folder, and only regular files on disk (never /dev,
 * /proc, /sys or a FIFO). A payload is data from anyone; a path in it is a request, not a fact.
 */
import { closeSync, constants, fstatSync, openSync, promises as fsp, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { InputError, UsageError } from '../../errors.ts';
import type { InputFile } from '../shuffle/split.ts';
import { FdInputFile } from './fd-input-file.ts';

/** The longest line a task reads by default; longer fails the task (`--max-line-length`). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
/** The most bytes one .gz input may inflate to by default (`--max-inflated-size`). */
export const DEFAULT_MAX_INFLATED_BYTES = 16 * 1024 ** 3;

export interface TaskLimits {
  maxLineBytes: number;
  maxInflatedBytes: number;
}

export const DEFAULT_LIMITS: TaskLimits = { maxLineBytes: DEFAULT_MAX_LINE_BYTES, maxInflatedBytes: DEFAULT_MAX_INFLATED_BYTES };

/**
 * The read buffer of each of a reduce task's `runs` files. A read stream allocates highWaterMark
 * bytes per read whatever the file's size, and the merge reads from every run at once: 2,500 runs
 * at 1 MiB each were 2.5 GB. They share a 64 MiB budget (16 KiB to 1 MiB each).
 */
export function runReadBuffer(runs: number): number {
  return Math.max(16 * 1024, Math.min(1 << 20, Math.floor((64 << 20) / Math.max(1, runs))));
}

/** Opens a file a task named; throws InputError when the task may not read it. */
export type InputOpener = (file: string) => Promise<InputFile>;

/** Virtual filesystems whose "regular files" are not data (`/proc/self/environ`). */
const VIRTUAL = ['/proc', '/sys', '/dev'];

function inside(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}

function fileKind(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The real path of `file` (symlinks resolved), or an InputError naming it. Synchronous, as are the
 * stats below: a worker runs one task at a time by default, and on a local disk these calls take
 * microseconds, while each asynchronous one costs a thread-pool round trip (500 small files:
 * about 230 CPU-ms through the pool against 70 with these in-thread).
 */
function realPathOf(file: string, what: string, shown: string): string {
  try {
    return realpathSync.native(file);
  } catch (error) {
    throw new InputError(`Cannot read ${what} ${shown}: ${(error as Error).message}`, { cause: error });
  }
}

function statOf(real: string, shown: string): Stats {
  try {
    return statSync(real);
  } catch (error) {
    throw new InputError(`Cannot read input file ${shown}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens `real` (a resolved path) if it is a regular file on disk; O_NONBLOCK so that a FIFO that
 * appeared meanwhile cannot block the worker, and the open file must be the one that was checked.
 */
async function openRegular(shown: string, real: string): Promise<InputFile> {
  if (VIRTUAL.some((v) => inside(real, v))) {
    throw new InputError(`Refused input ${shown}: expected a regular file on disk, received a file of ${real.split(path.sep)[1] ?? '?'} (virtual filesystem)`);
  }
  const before = statOf(real, shown);
  if (!before.isFile()) throw new InputError(`Refused input ${shown}: expected a regular file, received ${fileKind(before)}`);
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    throw new InputError(`Cannot read input file ${shown}: ${(error as Error).message}`, { cause: error });
  }
  const after = fstatSync(fd);
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    closeSync(fd);
    throw new InputError(`Refused input ${shown}: the file changed while it was being opened`);
  }
  return new FdInputFile(fd);
}

export class InputGuard {
  private constructor(
    /** Each root as given (absolute) and as resolved. */
    readonly roots: ReadonlyArray<{ given: string; real: string }>,
  ) {}

  /** Roots are folders or files; each must exist. */
  static async create(roots: string[], cwd: string = process.cwd()): Promise<InputGuard> {
    if (roots.length === 0) throw new UsageError('A worker needs at least one input root (--input-root DIR)');
    const resolved = await Promise.all(
      roots.map(async (root) => {
        const given = path.resolve(cwd, root);
        const real = await fsp.realpath(given).catch((error: unknown) => {
          throw new UsageError(`Input root ${root}: expected an existing folder or file, received ${(error as Error).message}`);
        });
        return { given, real };
      }),
    );
    return new InputGuard(resolved);
  }

  describeRoots(): string {
    return this.roots.map((r) => r.given).join(', ');
  }

  /** Opens a map input: below a root, lexically and after resolving symlinks. */
  readonly openInput: InputOpener = async (file) => {
    const shown = JSON.stringify(file).slice(1, -1);
    if (!path.isAbsolute(file)) throw new InputError(`Refused input ${shown}: expected an absolute path`);
    const lexical = path.resolve(file);
    const refuse = (why: string): InputError =>
      new InputError(`Refused input ${shown}: ${why} (this worker reads only below its input roots: --input-root)`);
    if (!this.roots.some((r) => inside(lexical, r.given) || inside(lexical, r.real))) throw refuse('outside the input roots');
    const real = realPathOf(lexical, 'input file', shown);
    if (!this.roots.some((r) => inside(real, r.real))) throw refuse(`it resolves to ${real}, outside the input roots`);
    return openRegular(shown, real);
  };
}

/** `map-`, `reduce-` folders of step index `step` (0-based): `step2-map-00003` from the second step on (driver/part-names.ts). */
function taskFolderPattern(kinds: string, step: number): RegExp {
  return new RegExp(`^${step > 0 ? `step${step + 1}-` : ''}(${kinds})-\\d{5}$`);
}

/**
 * What a task may open from its run folder, the folder named after the task's run id
 * (`<output>/_temporary/<run>` or `<tmp>/gmr-run-<run>`); the run id comes from the signed header,
 * so only files the driver's own tasks wrote qualify:
 * - `runs`: a reduce task of step s reads map output of step s, `<run folder>/[stepS-]map-NNNNN/part-NNNNN`;
 * - `pairs`: a map task of step s > 0 reads step s-1's output, `<run folder>/[stepS-]{map,reduce}-NNNNN/output`.
 */
export function runFileOpener(runId: string, what: 'runs' | 'pairs', step = 0): InputOpener {
  const base = runId.replace(/\.\d+$/, ''); // a resumed driver's unique run id is <run>.<resumes>
  const task = what === 'runs' ? taskFolderPattern('map', step) : taskFolderPattern('map|reduce', step - 1);
  const file = what === 'runs' ? /^part-\d{5}$/ : /^output$/;
  const expected = what === 'runs' ? `${step > 0 ? `step${step + 1}-` : ''}map-NNNNN/part-NNNNN` : `${step > 1 ? `step${step}-` : ''}{map,reduce}-NNNNN/output`;
  const kind = what === 'runs' ? 'reduce input' : `step ${step + 1} input`;
  const rule = what === 'runs' ? 'a reduce task reads only map output inside its run folder' : "a later step's map task reads only the previous step's output inside its run folder";
  return async (given) => {
    const shown = JSON.stringify(given).slice(1, -1);
    const refuse = (why: string): InputError =>
      new InputError(`Refused ${kind} ${shown}: ${why}; ${rule}`);
    if (!path.isAbsolute(given)) throw refuse('expected an absolute path');
    const real = realPathOf(given, kind, shown);
    const parts = real.split(path.sep);
    const name = parts.at(-1) ?? '';
    const folder = parts.at(-2) ?? '';
    const run = parts.at(-3) ?? '';
    const parent = parts.at(-4) ?? '';
    const runFolder = run === `gmr-run-${base}` || (run === base && parent === '_temporary');
    if (what === 'pairs' && step === 0) throw refuse('the first step reads the input, not the run folder');
    if (!file.test(name) || !task.test(folder) || !runFolder) {
      throw refuse(`expected <run folder of ${base}>/${expected}, received ${real}`);
    }
    return openRegular(shown, real);
  };
}
