/**
 * Where a run secret comes from: `--secret-file FILE` (its contents, surrounding white space
 * trimmed; the file must not be readable by group or others), else the `GMR_SECRET` environment
 * variable. `gmr run` without --servers makes a fresh one per run.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../errors.ts';
import { MIN_SECRET_BYTES } from './task-auth.ts';

export const SECRET_ENV = 'GMR_SECRET';

/** 32 random bytes as hex: what the embedded default signs with. */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

function checked(text: string, from: string): string {
  const secret = text.trim();
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new UsageError(`Run secret from ${from}: expected at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32), received ${Buffer.byteLength(secret)}`);
  }
  return secret;
}

export async function readSecretFile(file: string): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw new UsageError(`--secret-file ${file}: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw new UsageError(`--secret-file ${file}: expected a regular file`);
  if ((info.mode & 0o077) !== 0) {
    throw new UsageError(`--secret-file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`);
  }
  return checked(await readFile(file, 'utf8'), file);
}

/** The secret from --secret-file, else from GMR_SECRET, else undefined. */
export async function resolveSecret(secretFile: string | undefined, env: NodeJS.ProcessEnv | undefined): Promise<string | undefined> {
  if (secretFile !== undefined) return readSecretFile(secretFile);
  const fromEnv = env?.[SECRET_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : checked(fromEnv, `the ${SECRET_ENV} environment variable`);
}
