/**
 * One run at a time per output folder: `DIR/_temporary/_lock` is created exclusively and holds the
 * owner's pid, host and run id. A second run (cron overlap) refuses with a clear message; a lock
 * whose process is gone (a driver that was killed) is taken over.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockHeldError, OutputError } from '../../errors.ts';
import { makeFolders } from './make-folders.ts';

interface LockInfo {
  pid: number;
  host: string;
  runId: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireOutputLock(outputDir: string, runId: string): Promise<() => Promise<void>> {
  const dir = join(outputDir, '_temporary');
  try {
    await makeFolders(dir);
  } catch (error) {
    throw new OutputError(`Cannot create the output folder ${outputDir}: ${(error as Error).message}`, { cause: error });
  }
  const path = join(dir, '_lock');
  const mine: LockInfo = { pid: process.pid, host: hostname(), runId, startedAt: new Date().toISOString() };
  for (let tries = 0; tries < 3; tries++) {
    try {
      await writeFile(path, JSON.stringify(mine), { flag: 'wx' });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new OutputError(`Cannot write the lock ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    let other: LockInfo | undefined;
    try {
      other = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    } catch {
      other = undefined; // half-written or unreadable: treat as stale
    }
    if (other && (other.host !== mine.host || alive(other.pid))) {
      throw new LockHeldError(
        `Another gmr run (pid ${other.pid} on ${other.host}, run ${other.runId}, started ${other.startedAt}) is writing to ${outputDir}; refusing to start a second one. Wait for it, or remove ${path} if that run is gone.`,
      );
    }
    await rm(path, { force: true });
  }
  throw new LockHeldError(`Cannot take the lock ${path}: it keeps reappearing (another run is starting); retry later`);
}
