/**
 * `mkdir -p` that cannot hang: Node's recursive mkdir loops forever below /proc (ENOENT for a
 * folder it may not create, again and again), so the missing folders are made one by one.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function makeFolders(path: string): Promise<void> {
  const missing: string[] = [];
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      await stat(at);
      break; // exists: a file in the way fails at the mkdir below, with ENOTDIR or EEXIST
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
