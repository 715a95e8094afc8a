/**
 * One server per queue file. The SQLite build we use (WebAssembly, node-sqlite3-wasm) locks a
 * file by creating the folder `FILE.lock`, which a killed server leaves behind; the server that
 * holds it writes its pid and start time into `FILE.lock/owner`, so a later start can tell a
 * live owner (refused) from a dead one (its lock is removed).
 */
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { LockHeldError } from '../../errors.ts';

/** The folder node-sqlite3-wasm creates to lock `file`. */
export function lockDir(file: string): string {
  return `${file}.lock`;
}

function ownerFile(file: string): string {
  return `${lockDir(file)}/owner`;
}

/** A process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the owner. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(pid);
  return start === undefined || now === undefined || now === start;
}

/**
 * Before opening: refuses a file a live process holds; removes the lock a dead one left.
 * Returns true when a stale lock was removed.
 */
export function clearStaleLock(file: string): boolean {
  const dir = lockDir(file);
  if (!existsSync(dir)) return false;
  let owner: { pid?: unknown; start?: unknown } = {};
  try {
    owner = JSON.parse(readFileSync(ownerFile(file), 'utf8')) as typeof owner;
  } catch {
    // no owner written: the holder died between taking the lock and writing it
  }
  const pid = typeof owner.pid === 'number' ? owner.pid : undefined;
  const start = typeof owner.start === 'string' ? owner.start : undefined;
  if (pid !== undefined && alive(pid, start)) {
    throw new LockHeldError(`Queue file ${file} is in use by process ${pid} (its lock ${dir} is held): one job server per queue file`);
  }
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** After the lock was taken: who holds it. */
export function writeOwner(file: string): void {
  const start = startTime(process.pid);
  writeFileSync(ownerFile(file), JSON.stringify({ pid: process.pid, ...(start === undefined ? {} : { start }) }));
}

/** Before closing: the lock folder must be empty for SQLite to remove it. */
export function removeOwner(file: string): void {
  try {
    unlinkSync(ownerFile(file));
  } catch {
    // already gone
  }
}
