/**
 * An input file's identity as the plan records it (device, inode, size, mtime, ctime), and the
 * checks that a run's inputs are still those files: before commit (a file truncated or rewritten
 * during the run fails it) and before --resume reuses finished map tasks (a file replaced with
 * one of the same size and restored mtime, as `cp -p` or `rsync -a` do, still has a new ctime).
 */
import { statSync } from 'node:fs';
import { InputError } from '../../errors.ts';
import { inBatches } from './sync-batches.ts';

export interface InputIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  ctimeMs: number;
}

export function identityOf(file: InputIdentity): InputIdentity {
  return { path: file.path, size: file.size, mtimeMs: file.mtimeMs, dev: file.dev, ino: file.ino, ctimeMs: file.ctimeMs };
}

/** What differs between two identities of one path, in words; '' when nothing does. */
export function describeChange(was: InputIdentity, now: InputIdentity | undefined): string {
  if (now === undefined) return 'it is gone';
  const changes: string[] = [];
  if (was.dev !== now.dev || was.ino !== now.ino) changes.push('it is another file (device/inode)');
  if (was.size !== now.size) changes.push(`size ${was.size} → ${now.size} bytes`);
  if (was.mtimeMs !== now.mtimeMs) changes.push('modified (mtime)');
  if (was.ctimeMs !== now.ctimeMs) changes.push('its status changed (ctime), e.g. rewritten with its mtime restored');
  return changes.join(', ');
}

function current(path: string): InputIdentity | undefined {
  try {
    const s = statSync(path);
    return { path, size: s.size, mtimeMs: s.mtimeMs, dev: s.dev, ino: s.ino, ctimeMs: s.ctimeMs };
  } catch {
    return undefined;
  }
}

/** The recorded inputs that changed since, with what changed. */
export async function changedInputs(inputs: readonly InputIdentity[]): Promise<Array<{ path: string; change: string }>> {
  const changes = await inBatches(inputs, (input) => ({ path: input.path, change: describeChange(input, current(input.path)) }));
  return changes.filter((c) => c.change !== '');
}

/** Fails loudly, naming the files, when an input changed during the run: its output would mix two versions. */
export async function checkInputsUnchanged(inputs: readonly InputIdentity[]): Promise<void> {
  const changed = await changedInputs(inputs);
  if (changed.length === 0) return;
  const shown = changed.slice(0, 3).map((c) => `${c.path} (${c.change})`).join('; ');
  throw new InputError(
    `Input changed during the run, so nothing was committed: ${shown}${changed.length > 3 ? `; and ${changed.length - 3} more` : ''}. Run again once the inputs are final`,
  );
}
