/**
 * One machine, zero set-up: an embedded JobServer and N local `gmr worker` child processes, so map
 * tasks really run in parallel on the cores. Private to the user who runs it: the server listens
 * on a Unix socket in a fresh folder only that user can enter (mode 0700), so another local user
 * can neither serve its tasks nor submit or administer anything; the workers get the run secret
 * in their environment (readable only by the same user), the prestarted one on its stdin pipe
 * (prestart-worker.ts), and read only the run's inputs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunError } from '../../errors.ts';
import { DEFAULT_MAX_PACKET_SIZE } from '../../protocol/limits.ts';
import { JobServer } from '../../server/job-server.ts';
import { packageRoot } from '../job/package-root.ts';
import { claimPrestartedWorker, WORKER_NODE_FLAGS } from './prestart-worker.ts';
import { EXIT_JOB_CODE_THREW } from './worker-launch.ts';

export interface LocalClusterOptions {
  workers: number;
  /** What the workers serve: `--jobs <built-in name or absolute module path>`, or `--streaming …` flags. */
  serve: string[];
  cwd?: string;
  /** Called with each line a worker writes to stderr (diagnostics), as `worker N: <line without its gmr prefix>`. */
  onWorkerLog?: (line: string) => void;
  /** The run secret (text) the workers verify tasks with; undefined runs them --insecure. */
  secret: string | undefined;
  /** What the workers may read (--input-root): the run's inputs. */
  inputRoots: string[];
  /**
   * Workers started in place of ones that exit, up to this many in all (default 0): a run that
   * starts fewer than --workers (run-cluster.ts) keeps the lives of the others, so a task whose
   * worker died is still retried on a fresh process.
   */
  spares?: number;
}

export interface LocalCluster {
  servers: string[];
  /** Rejects when every worker process has exited (a run would otherwise wait forever). */
  allWorkersDead: Promise<never>;
  /** Ends the worker processes (SIGTERM: they finish what they run), leaving the server up; close() does it too. */
  stopWorkers(): Promise<void>;
  /** Stops the workers, the server and removes its private folder. Idempotent. */
  close(): Promise<void>;
}

/** bin/gmr.js of this package. */
function gmrBin(): string {
  const bin = join(packageRoot(), 'bin', 'gmr.js');
  if (!existsSync(bin)) throw new RunError(`Cannot find bin/gmr.js in the gmr package at ${packageRoot()}`);
  return bin;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  // Its peers are this run's own processes: a shipped split may be as large as --split-size, so it
  // takes what a worker takes (1 GiB), not the 128 MiB a server open to strangers takes.
  // Short, so the socket path stays within the 108 bytes of sun_path.
  const privateDir = await mkdtemp(join(process.env['XDG_RUNTIME_DIR'] ?? tmpdir(), 'gmr-'));
  await chmod(privateDir, 0o700);
  const server = await JobServer.listen({ path: join(privateDir, 'server.sock'), maxPacketSize: DEFAULT_MAX_PACKET_SIZE }).catch(async (error: unknown) => {
    await rm(privateDir, { recursive: true, force: true });
    throw error;
  });
  const address = server.address;
  const trust = options.secret === undefined ? ['--insecure'] : [];
  const roots = options.inputRoots.flatMap((root) => ['--input-root', root]);
  const env: NodeJS.ProcessEnv = { ...process.env, GMR_EXIT_WITH_STDIN: '1' };
  if (options.secret === undefined) delete env['GMR_SECRET'];
  else env['GMR_SECRET'] = options.secret;
  const bin = gmrBin();
  const children: ChildProcess[] = [];
  const tails: string[] = [];
  let alive = 0;
  let rejectDead: (error: Error) => void = () => {};
  const allWorkersDead = new Promise<never>((_, reject) => {
    rejectDead = reject;
  });
  allWorkersDead.catch(() => {});
  let closing = false;
  let spares = options.spares ?? 0;
  let started = 0;
  const startWorker = (): void => {
    const i = started++;
    const args = ['--servers', address, ...options.serve, '--client-id', `gmr-local-${i}`, ...trust, ...roots, '--quiet'];
    // The first one was started by bin/gmr.js while this driver loaded (prestart-worker.ts), if so.
    const child =
      claimPrestartedWorker({ argv: args, cwd: options.cwd ?? process.cwd(), secret: options.secret ?? null }) ??
      spawn(
        process.execPath,
        [...WORKER_NODE_FLAGS, bin, 'worker', ...args],
        // stdin is a pipe the driver never writes: when the driver dies, it closes and the worker exits
        // instead of reconnecting forever to a server that is gone (the prestarted one's too).
        { cwd: options.cwd, stdio: ['pipe', 'ignore', 'pipe'], env },
      );
    alive++;
    children.push(child);
    let buffered = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      buffered += text;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        // The driver prints it with its own `gmr: `; the worker's own prefix would double it.
        const line = buffered.slice(0, newline).replace(/^gmr( worker)?: /, '');
        buffered = buffered.slice(newline + 1);
        tails.push(line);
        if (tails.length > 20) tails.shift();
        options.onWorkerLog?.(`worker ${i}: ${line}`);
        newline = buffered.indexOf('\n');
      }
    });
    child.once('exit', (code, signal) => {
      alive--;
      // A worker that failed its tasks because their code threw outside its calls is replaced
      // without a spare: those attempts count against --max-attempts, which bounds the restarts.
      if (!closing && code === EXIT_JOB_CODE_THREW) startWorker();
      else if (!closing && spares > 0) {
        spares--;
        startWorker();
      }
      if (closing || alive !== 0) return;
      const dead = (): void => {
        // Workers that all failed the same way said the same line: it is said once, on the same line.
        const said = [...new Set(tails)];
        const lines = said.length === 1 ? ` ${said[0]}` : said.length > 1 ? `\n${tails.join('\n')}` : '';
        rejectDead(new RunError(`Every local worker exited (last: ${signal ?? `exit code ${code}`})${lines ? `:${lines}` : ''}`));
      };
      // 'exit' may come before the last of its stderr: the reason is read once that has ended too.
      if (child.stderr === null || child.stderr.readableEnded) dead();
      else {
        const timer = setTimeout(dead, 1000);
        child.stderr.once('end', () => {
          clearTimeout(timer);
          dead();
        });
      }
    });
  };
  for (let n = 0; n < options.workers; n++) startWorker();
  // Memoized: the driver stops the workers once the last step is done, the commit still running.
  let stopping: Promise<void> | undefined;
  const stopWorkers = (): Promise<void> =>
    (stopping ??= (async () => {
      closing = true;
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    })());
  // Memoized too: the driver closes the cluster beside its client, and again in its last cleanup.
  let closed: Promise<void> | undefined;
  return {
    servers: [address],
    allWorkersDead,
    stopWorkers,
    close: () =>
      (closed ??= (async () => {
        await stopWorkers();
        await server.close();
        await rm(privateDir, { recursive: true, force: true });
      })()),
  };
}
