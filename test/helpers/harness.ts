/**
 * What the tests that drive gmr as processes share (reliability, trust, watch, e2e, cli): real
 * processes they start (and always kill), temp folders, a slow corpus, polling with a bound, the
 * job servers' admin status, and reading a committed output (part files merged by key) and its
 * `_SUCCESS` manifest.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from '../../src/client/admin-client.ts';
import type { FunctionStatus } from '../../src/protocol/admin-text.ts';
import { writeCorpus } from './corpus.ts';
import { REPO_ROOT, spawnGmr } from './gmr-cli.ts';
import { waitFor } from './wait-for.ts';

export const SLOW_JOB = join(REPO_ROOT, 'test/fixtures/jobs/slow-wordcount.ts');
export const HANG_JOB = join(REPO_ROOT, 'test/fixtures/jobs/hang-wordcount.ts');

/** A started gmr process with its output collected as it comes. */
export interface Proc {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal (at once if it already exited). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Processes, pids and folders a test started; `cleanup()` (in afterEach) kills and removes them all. */
export class Harness {
  readonly #procs: Proc[] = [];
  readonly #pids: number[] = [];
  readonly #dirs: string[] = [];
  readonly #closers: Array<() => Promise<unknown>> = [];

  tempDir(prefix = 'gmr-rel-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  gmr(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawnGmr(args, { env });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
    const proc: Proc = { child, pid: child.pid as number, stdout: () => out, stderr: () => err, exited };
    this.#procs.push(proc);
    return proc;
  }

  /** A process this test did not spawn directly (e.g. a driver's local worker) to kill at the end. */
  adopt(pid: number): void {
    this.#pids.push(pid);
  }

  /** Anything else to close or stop at the end (job servers). */
  defer(close: () => Promise<unknown>): void {
    this.#closers.push(close);
  }

  async cleanup(): Promise<void> {
    for (const proc of this.#procs.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    }
    for (const pid of this.#pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => {});
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits for a process to exit, bounded; the exit code and signal. */
export async function exitOf(proc: Proc, limitMs = 45_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gmr (pid ${proc.pid}) still running after ${limitMs} ms; stderr:\n${proc.stderr()}`)),
      limitMs,
    );
  });
  try {
    return await Promise.race([proc.exited, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** True while a process exists and is not a zombie (an orphan's zombie may linger unreaped). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface SlowInput {
  dir: string;
  files: string[];
  /** Records (lines) in the input: each is read exactly once by exactly one map task. */
  records: number;
}

/** Two text files (about 900 lines) that the slow job works through in a few seconds. */
export function slowCorpus(dir: string, seed = 3, lines = 600): SlowInput {
  const files = writeCorpus(join(dir, 'in'), seed, lines);
  let records = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    records += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  }
  return { dir: join(dir, 'in'), files, records };
}

/** One `status` from a job server (a fresh connection, so it works across server restarts). */
export async function statusOf(address: string): Promise<FunctionStatus[]> {
  const admin = new AdminClient({ server: address, connectTimeoutMs: 2000, timeoutMs: 5000 });
  try {
    return await admin.status();
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function statusRow(address: string, fn: string): Promise<FunctionStatus | undefined> {
  return (await statusOf(address).catch(() => [])).find((s) => s.function === fn);
}

/** Waits until `address` shows at least `count` workers registered for each of `fns`. */
export async function waitForWorkers(address: string, fns: string[], count: number): Promise<void> {
  await waitFor(
    async () => {
      for (const fn of fns) if (((await statusRow(address, fn))?.workers ?? 0) < count) return false;
      return true;
    },
    `${count} workers for ${fns.join(', ')} on ${address}`,
  );
}

/** One line of the slow job's task log: which process began or ended which task. */
export interface TaskEvent {
  pid: number;
  phase: 'map' | 'reduce';
  index: number;
  what: 'start' | 'end';
}

export function taskLog(path: string): TaskEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, phase, index, what] = line.split(' ');
      return { pid: Number(pid), phase: phase as TaskEvent['phase'], index: Number(index), what: what as TaskEvent['what'] };
    });
}

/** Tasks of `phase` that `pid` began and has not ended (yet, or ever). */
export function openTasks(events: TaskEvent[], pid: number, phase: 'map' | 'reduce'): number[] {
  const open = new Set<number>();
  for (const e of events) {
    if (e.pid !== pid || e.phase !== phase) continue;
    if (e.what === 'start') open.add(e.index);
    else open.delete(e.index);
  }
  return [...open];
}

export interface ManifestAttempt {
  attempt: number;
  ms: number;
  error?: string;
  restarts?: number;
}

export interface Manifest {
  ok: boolean;
  job: string;
  mapTasks: number;
  reduceTasks: number;
  attempts: number;
  records: number;
  outputRecords: number;
  resumedMapTasks: number;
  badRecords: Array<{ path: string; line: number; offset: number; message: string; task: number }>;
  tasks: Array<{ phase: 'map' | 'reduce'; index: number; input?: string; attempts: ManifestAttempt[] }>;
}

export function readManifest(out: string): Manifest {
  return JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as Manifest;
}

/**
 * The committed output as one text: every part must be sorted by the word's UTF-8 bytes (the
 * shuffle's order); the parts' lines are merged in that order, as the python3 reference prints.
 */
export function committedOutput(out: string): string {
  const parts = readdirSync(out).filter((e) => e.startsWith('part-')).sort();
  const lines: Buffer[] = [];
  for (const part of parts) {
    const text = readFileSync(join(out, part), 'utf8');
    const own = text.split('\n').filter(Boolean).map((l) => Buffer.from(l));
    const words = own.map((l) => l.subarray(0, l.indexOf(9)));
    for (let i = 1; i < words.length; i++) {
      if (Buffer.compare(words[i - 1] as Buffer, words[i] as Buffer) >= 0) throw new Error(`${part} is not sorted by key at line ${i + 1}`);
    }
    lines.push(...own);
  }
  const key = (l: Buffer): Buffer => l.subarray(0, l.indexOf(9));
  lines.sort((a, b) => Buffer.compare(key(a), key(b)));
  return lines.map((l) => `${l.toString()}\n`).join('');
}

/**
 * Facts every complete run must show, whatever was killed on the way: each task ended with exactly
 * one successful attempt (its last), the attempt total adds up, and every input record was counted
 * once (`records` is the sum of the accepted map results).
 */
export function checkManifest(m: Manifest, input: SlowInput, reference: string): void {
  const problems: string[] = [];
  if (!m.ok) problems.push('ok is not true');
  if (m.mapTasks < 2) problems.push(`mapTasks ${m.mapTasks} < 2`);
  if (m.reduceTasks < 2) problems.push(`reduceTasks ${m.reduceTasks} < 2`);
  if (m.tasks.length !== m.mapTasks + m.reduceTasks) problems.push(`tasks has ${m.tasks.length} entries`);
  let attempts = 0;
  for (const t of m.tasks) {
    attempts += t.attempts.length;
    const last = t.attempts[t.attempts.length - 1];
    if (!last || last.error !== undefined) problems.push(`${t.phase} ${t.index}: last attempt failed or missing`);
    if (t.attempts.slice(0, -1).some((a) => a.error === undefined)) problems.push(`${t.phase} ${t.index}: two successful attempts`);
  }
  if (attempts !== m.attempts) problems.push(`attempts ${m.attempts} != sum over tasks ${attempts}`);
  if (m.records !== input.records) problems.push(`records ${m.records} != input lines ${input.records}`);
  const keys = reference.split('\n').filter(Boolean).length;
  if (m.outputRecords !== keys) problems.push(`outputRecords ${m.outputRecords} != reference keys ${keys}`);
  if (problems.length > 0) throw new Error(`manifest: ${problems.join('; ')}`);
}

export function mapFn(job: string): string {
  return `gmr.map.${job}`;
}

export function reduceFn(job: string): string {
  return `gmr.reduce.${job}`;
}
