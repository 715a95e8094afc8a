/**
 * One streaming command as a child process, with real programs (sh, python3, head, cat): input
 * pulled only as fast as the command reads, a command that stops reading, a 50 MB line and the
 * line bound, stdout held back while the sink is busy, reporter lines, exit codes and signals in
 * the error, and a command killed on abort or when idle, never left behind (not even a zombie).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandFailure, runCommand, type CommandOptions } from '../../../src/mapreduce/task/streaming-child.ts';
import { TaskState } from '../../../src/mapreduce/task/task-state.ts';

function options(command: string[], extra: Partial<CommandOptions> = {}): CommandOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    role: 'mapper',
    command,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    input: (async function* () {})(),
    onLine: (line) => {
      lines.push(line);
    },
    state: new TaskState({}),
    maxLineBytes: 64 << 20,
    lines,
    ...extra,
  };
}

async function* bytes(total: number, chunk: number, pulled: { n: number }): AsyncGenerator<Buffer> {
  const line = Buffer.alloc(chunk, 'x');
  line[chunk - 1] = 10;
  for (let sent = 0; sent < total; sent += chunk) {
    pulled.n += chunk;
    yield line;
  }
}

async function failure(promise: Promise<unknown>): Promise<CommandFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CommandFailure);
    return error as CommandFailure;
  }
  throw new Error('expected the command to fail');
}

/** True while the process exists at all (running or a zombie that nobody reaped). */
function exists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

describe('runCommand', () => {
  it('pulls input only as fast as the command reads: a command that reads nothing holds back 64 MiB', async () => {
    const pulled = { n: 0 };
    // The command sleeps without reading, then exits 0: only what fits the pipe may have been pulled.
    await runCommand(options(['sh', '-c', 'sleep 1'], { input: bytes(64 << 20, 64 << 10, pulled) }));
    expect(pulled.n).toBeLessThan(4 << 20);
  });

  it('lets a command stop reading early (head): its exit status decides, and nothing hangs', async () => {
    const pulled = { n: 0 };
    const o = options(['head', '-n', '2'], { input: bytes(64 << 20, 1024, pulled) });
    await runCommand(o);
    expect(o.lines).toEqual(['x'.repeat(1023), 'x'.repeat(1023)]);
    expect(pulled.n).toBeLessThan(8 << 20);
  });

  it('passes a 50 MB line through both ways (cat) and refuses a line over the bound in one line', async () => {
    const big = Buffer.alloc(50_000_000, 'a');
    const o = options(['cat'], {
      input: (async function* () {
        for (let i = 0; i < big.length; i += 1 << 20) yield big.subarray(i, i + (1 << 20));
        yield Buffer.from('\nshort\tline\n');
      })(),
    });
    await runCommand(o);
    expect(o.lines.map((l) => l.length)).toEqual([50_000_000, 10]);
    const bounded = await failure(runCommand(options(['python3', '-c', 'import sys; sys.stdout.write("b" * 3000000 + "\\n")'], { maxLineBytes: 1 << 20 })));
    expect(bounded.message).toBe('mapper "python3 -c \'import sys; sys.stdout.write("b" * 3000000 + "\\n")\'" wrote a line longer than 1048576 bytes (the bound on one line); expected shorter lines; nothing on stderr');
  });

  it('holds stdout back while the sink is busy', async () => {
    let busy = false;
    let overlapped = false;
    let seen = 0;
    const o = options(['python3', '-c', 'import sys\nfor i in range(20000): print(i)'], {
      onLine: () => {
        if (busy) overlapped = true;
        seen++;
        if (seen % 5000 !== 1) return undefined;
        busy = true;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            busy = false;
            resolve();
          }, 50),
        );
      },
    });
    await runCommand(o);
    expect(seen).toBe(20000);
    expect(overlapped).toBe(false);
  });

  it('reads reporter lines into counters and status, and keeps other stderr lines as the log', async () => {
    const state = new TaskState({});
    const logs: string[] = [];
    const script = 'echo "reporter:counter:Words,seen,5" >&2; echo "reporter:counter:Words,seen,-2" >&2; echo "reporter:status:half way" >&2; echo "a plain line" >&2; echo "reporter:counter:bad" >&2; echo out';
    const o = options(['sh', '-c', script], { state, onLog: (line) => logs.push(line) });
    await runCommand(o);
    expect(state.counterRecord()).toEqual({ 'Words.seen': 3 });
    expect(state.status).toBe('half way');
    expect(logs).toEqual(['a plain line', 'reporter:counter:bad']);
    expect(o.lines).toEqual(['out']);
  });

  it('names the exit code or the signal, and the tail of stderr', async () => {
    const code = await failure(runCommand(options(['sh', '-c', 'echo first >&2; echo "it broke" >&2; exit 3'])));
    expect(code.message).toBe('mapper "sh -c \'echo first >&2; echo "it broke" >&2; exit 3\'" exited with code 3; stderr ends: first | it broke');
    expect(code.stderrTail).toEqual(['first', 'it broke']);
    const killed = await failure(runCommand(options(['sh', '-c', 'kill -9 $$'], { role: 'reducer' })));
    expect(killed.message).toMatch(/^reducer "sh -c 'kill -9 \$\$'" was killed by SIGKILL; nothing on stderr$/);
    const missing = await failure(runCommand(options(['no-such-program-gmr'])));
    expect(missing.message).toBe('mapper "no-such-program-gmr" could not be started: no-such-program-gmr: no such program (not found on PATH or not a file)');
  });

  it('kills a command that makes no progress for idleMs, and reaps it', async () => {
    let pid = 0;
    const error = await failure(runCommand(options(['sleep', '600'], { idleMs: 500, onSpawn: (p) => (pid = p) })));
    expect(error.message).toMatch(/^mapper "sleep 600" made no progress \(read nothing, wrote nothing\) for 0.5 s \(--task-timeout\); killed; nothing on stderr$/);
    expect(pid).toBeGreaterThan(0);
    expect(exists(pid)).toBe(false);
  });

  it('kills a command when the task is aborted, with SIGKILL if it ignores SIGTERM, and reaps it', async () => {
    const abort = new AbortController();
    let pid = 0;
    const run = runCommand(
      options(['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"], {
        signal: abort.signal,
        onSpawn: (p) => (pid = p),
        onLine: (line) => {
          if (line === 'ready') abort.abort(new Error('the job server took the job back'));
        },
      }),
    );
    const error = await failure(run);
    expect(error.message).toMatch(/^mapper "sh -c .*" was stopped: the job server took the job back; nothing on stderr$/);
    expect(exists(pid)).toBe(false);
    // Its state file is gone too: not a zombie (a zombie keeps /proc/<pid> until it is reaped).
    expect(() => readFileSync(`/proc/${pid}/stat`)).toThrow();
  });
});
