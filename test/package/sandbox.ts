/**
 * A folder outside the checkout where the packed gmr is installed as a user would install it, and
 * the commands a user would type there (npm, npx, tsc, an installed gmr), run under the test's Node.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, userEnv } from '../helpers/gmr-cli.ts';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The checkout's TypeScript compiler, run on a user's project (its resolution starts there). */
export const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * The user's environment: no npm_* variables from an enclosing `npm test` (npm would read them as
 * its config), and the running Node first on PATH so npm, npx and gmr's `#!/usr/bin/env node` use
 * the Node under test (CI runs the suite on two Node lines). The npm cache stays the user's own.
 */
export function sandboxEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(userEnv())) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  env['PATH'] = [path.dirname(process.execPath), env['PATH'] ?? ''].join(path.delimiter);
  return { ...env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** Runs a command to its end; a non-zero exit is a result, not an exception. */
export function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: sandboxEnv(), timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The folders from `dir` up to the root that hold a node_modules (for "no node_modules near"). */
export function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules'))) found.push(d);
    if (path.dirname(d) === d) return found;
  }
}
