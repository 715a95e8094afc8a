/**
 * Child processes for the benchmarks, and what /proc says about them.
 *
 * Every child we start stops by itself: the TypeScript children exit when their stdin closes
 * (which happens when this process dies, however it dies), and gearmand runs under a small
 * `sh` guard that kills it when the guard's stdin closes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GEARMAND_PATH, freePort, waitForPort } from '../../test/helpers/gearmand.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Clock ticks per second for /proc/<pid>/stat (getconf CLK_TCK; 100 on every Linux we run on). */
const CLK_TCK = 100;

/** A child that talks in JSON lines on stdout and takes commands as lines on stdin. */
export class LineChild {
  readonly process: ChildProcess;
  readonly #lines: string[] = [];
  #waiter: ((line: string | undefined) => void) | undefined;
  #ended = false;
  stderr = '';

  constructor(child: ChildProcess) {
    this.process = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w(line);
      } else this.#lines.push(line);
    });
    rl.on('close', () => {
      this.#ended = true;
      this.#waiter?.(undefined);
      this.#waiter = undefined;
    });
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error('child has no pid (spawn failed)');
    return this.process.pid;
  }

  /** Next stdout line parsed as JSON; rejects on timeout or when the child's stdout ends. */
  async next<T>(timeoutMs: number, what: string): Promise<T> {
    const queued = this.#lines.shift();
    const line =
      queued ??
      (this.#ended
        ? undefined
        : await new Promise<string | undefined>((resolve, reject) => {
            const timer = setTimeout(() => {
              this.#waiter = undefined;
              reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
            }, timeoutMs);
            this.#waiter = (l) => {
              clearTimeout(timer);
              resolve(l);
            };
          }));
    if (line === undefined) {
      throw new Error(`child exited while we waited for ${what}: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const value = JSON.parse(line) as T & { type?: string; message?: string };
    if (value.type === 'error') throw new Error(value.message ?? 'child reported an error');
    return value;
  }

  send(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** Closes stdin (the child's cue to exit), then SIGKILL after graceMs. Resolves on exit. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Runs `bench/lib/<script>` in its own Node process (tsx loader), so its pid is Node's own. */
export function spawnTs(script: string, args: string[], nodeFlags: string[] = []): LineChild {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', `bench/lib/${script}`, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new LineChild(track(child));
}

export interface GearmandProcess {
  pid: number;
  port: number;
  address: string;
  version: string;
  stop(): Promise<void>;
}

export function gearmandVersion(): string {
  if (!GEARMAND_PATH) return 'not installed';
  return execFileSync(GEARMAND_PATH, ['--version'], { encoding: 'utf8' })
    .replace(/\s+-\s+https?:\S+/, '')
    .trim();
}

/**
 * Starts gearmand with its default thread count (`-t` not given: 4 I/O threads) on a free
 * loopback port. A `sh` guard prints gearmand's pid and kills it when its stdin closes.
 */
export async function startGearmand(): Promise<GearmandProcess> {
  if (!GEARMAND_PATH) throw new Error('gearmand is not installed: apt-get install -y gearman-job-server');
  const port = await freePort();
  const guard = track(
    spawn(
      'sh',
      [
        '-c',
        '"$@" >/dev/null 2>&1 & pid=$!; echo "$pid"; read -r _ignored; kill "$pid" 2>/dev/null; wait "$pid"',
        'gearmand-guard',
        GEARMAND_PATH,
        '--port',
        String(port),
        '--listen',
        '127.0.0.1',
        '--log-file',
        'none',
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    ),
  );
  const pid = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: guard.stdout! });
    rl.once('line', (line) => resolve(Number(line)));
    guard.once('exit', () => reject(new Error('gearmand guard exited at start')));
  });
  await waitForPort(port);
  const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
  return {
    pid,
    port,
    address: `127.0.0.1:${port}`,
    version: gearmandVersion(),
    async stop() {
      if (guard.exitCode !== null || guard.signalCode !== null) return;
      guard.stdin?.end();
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** CPU time (user + system) of a process's main thread so far, in ms (/proc/<pid>/task/<pid>/stat). */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Resident set size in bytes, from VmRSS in /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
