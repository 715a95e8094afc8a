/**
 * The user's own cache folder for compiled code (job modules transpiled from TypeScript, V8's code
 * cache): where it is, made if missing, and used only when no other user can change it.
 *
 * `$GMR_CACHE_DIR`, else `$XDG_CACHE_HOME/gmr`, else `~/.cache/gmr`, else `<tmp>/gmr-<uid>`; each
 * kind of entry has a folder below it (`compiled/`, `v8/`) of mode 0700. The folder and every
 * folder above it must belong to this user or to root, and none may be writable by others unless
 * it is sticky (as /tmp is): otherwise another user could swap in entries of their own, and the
 * cache is not used at all (every process compiles for itself).
 */
import { chmodSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

export const CACHE_DIR_ENV = 'GMR_CACHE_DIR';

/** The cache's base folder (not checked, maybe missing). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, uid: number = currentUid()): string {
  const own = env[CACHE_DIR_ENV];
  if (own) return path.resolve(own);
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'gmr');
  const home = safeHome();
  if (home) return path.join(home, '.cache', 'gmr');
  return path.join(tmpdir(), `gmr-${uid}`);
}

export type PrivateDir = { dir: string } | { dir: undefined; problem: string };

/**
 * `<cacheRoot>/<name>`, created (mode 0700) if missing, with its real path; or why it cannot be
 * trusted (a folder on the way belongs to another user, or others may write to it).
 */
export function privateCacheDir(name: string, root: string = cacheRoot()): PrivateDir {
  const uid = currentUid();
  const wanted = path.join(root, name);
  let real: string;
  try {
    mkdirSync(wanted, { recursive: true, mode: 0o700 });
    real = realpathSync(wanted);
  } catch (error) {
    return { dir: undefined, problem: `cannot make ${wanted}: ${(error as Error).message}` };
  }
  const leaf = lstatSync(real);
  if (leaf.uid !== uid) return { dir: undefined, problem: `${real} belongs to uid ${leaf.uid}, not to this user (uid ${uid})` };
  if ((leaf.mode & 0o077) !== 0) chmodSync(real, 0o700);
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    const stats = lstatSync(dir);
    if (stats.uid !== uid && stats.uid !== 0) return { dir: undefined, problem: `${dir} (above ${real}) belongs to uid ${stats.uid}` };
    const othersWrite = (stats.mode & 0o022) !== 0;
    const sticky = (stats.mode & 0o1000) !== 0;
    if (othersWrite && !sticky) return { dir: undefined, problem: `others may write to ${dir} (above ${real})` };
    if (path.dirname(dir) === dir) break;
  }
  return { dir: real };
}

function currentUid(): number {
  return process.getuid?.() ?? -1;
}

function safeHome(): string | undefined {
  try {
    const home = homedir();
    return home && path.isAbsolute(home) ? home : undefined;
  } catch {
    return undefined;
  }
}
