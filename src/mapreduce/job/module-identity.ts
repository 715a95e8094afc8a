/**
 * A job module's identity: the SHA-256 of its file's bytes (a user module) or of its name and the
 * gmr version (a built-in, which ships with gmr and may be the .ts source or the compiled .js).
 * Tasks carry it, and a worker whose module differs refuses them (docs/SECURITY.md).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { packageVersion } from './package-root.ts';

export async function moduleHash(source: string, builtin: string | undefined): Promise<string> {
  const hash = createHash('sha256');
  if (builtin !== undefined) hash.update(`gmr built-in job ${builtin} ${packageVersion()}`);
  else hash.update(await readFile(source));
  return hash.digest('hex');
}

/** The first 12 hex digits, for messages and function names. */
export function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}
