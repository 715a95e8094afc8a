/**
 * Spawns bin/gmr.js as a user would (the compiled dist/ when built, which `npm test` does first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GMR_BIN = fileURLToPath(new URL('../../bin/gmr.js', import.meta.url));

export interface GmrResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The run secret the suite's external workers and drivers share, as the machines of one cluster
 * would (GMR_SECRET; docs/SECURITY.md). Tests of refusals pass another one, or none.
 */
export const TEST_SECRET = 'gmr-test-suite-secret-0123456789abcdef';

/** The test runner's environment without vitest's own variables: gmr runs as a user would run it. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('VITEST') && k !== 'TEST' && k !== 'NODE_ENV') env[k] = v;
  }
  return { GMR_SECRET: TEST_SECRET, ...env, ...extra };
}

export function spawnGmr(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [GMR_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: userEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runGmr(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<GmrResult> {
  return outcomeOf(spawnGmr(args, options), options.timeoutMs ?? 90_000);
}

/** Collects a child's stdout and stderr until it closes; SIGKILLed after `timeoutMs`, so a hung one fails its test. */
export async function outcomeOf(child: ChildProcess, timeoutMs: number): Promise<GmrResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** SIGKILLs a child that is still running and waits until it has exited (for afterEach). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
