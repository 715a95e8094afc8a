/**
 * Task logs (issue 11, item 2): what job code writes with console.* or process.stdout/stderr is
 * kept per task attempt in `<output>/_logs/<run>/`, forwarded to the driver's stderr as
 * `[map 3 attempt 2] …` unless --quiet, bounded per attempt (--log-limit) and per run
 * (--run-log-limit) with a line saying so; a throwing mapper's logs stay. The same with
 * `gmr worker`s on a real gearmand, each log holding only its own task's lines.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.ts';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { REPO_ROOT, runGmr, spawnGmr } from '../helpers/gmr-cli.ts';

const CHATTY = join(REPO_ROOT, 'test/fixtures/jobs/chatty.ts');
const WORDS = ['alpha', 'beta', 'warn', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-task-logs-'));
  input = join(dir, 'in.txt');
  writeFileSync(input, `${WORDS.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--workers', '2', '--reducers', '2', '--split-size', '12'];

interface Manifest {
  runId: string;
  tasks: Array<{ phase: string; index: number; input?: string; attempts: Array<{ attempt: number; log?: { path?: string; bytes: number; truncated?: boolean } }> }>;
}

/** The lines of `text` a split `path@offset+length` owns: those whose first byte lies in its range. */
function splitLines(text: string, spec: string): string[] {
  const [, offset, length] = /@(\d+)\+(\d+)$/.exec(spec)!.map(Number) as [number, number, number];
  const owned: string[] = [];
  let start = 0;
  for (const line of text.split('\n').slice(0, -1)) {
    if (start >= offset && start < offset + length) owned.push(line);
    start += Buffer.byteLength(line) + 1;
  }
  return owned;
}

/** What chatty's map writes for its lines. */
function mapLog(lines: string[]): string {
  return lines.map((l) => `saw ${l}\n${l === 'warn' ? 'a warning on stderr\n' : ''}`).join('');
}

/** stderr lines with a task prefix, as [prefix, text]. */
function prefixed(stderr: string): Array<[string, string]> {
  return stderr
    .split('\n')
    .map((l) => /^\[((?:map|reduce) \d+ attempt \d+)\] (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string]);
}

/** Checks the manifest's map and reduce logs against the split lines and reduce keys. */
function checkLogs(out: string): Manifest {
  const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as Manifest;
  const maps = manifest.tasks.filter((t) => t.phase === 'map');
  expect(maps.length).toBeGreaterThanOrEqual(2);
  const text = readFileSync(input, 'utf8');
  for (const task of maps) {
    const log = task.attempts[0]?.log;
    expect(log?.path).toBe(`_logs/${manifest.runId}/map-${String(task.index).padStart(5, '0')}-attempt-1.log`);
    const body = readFileSync(join(out, log!.path!), 'utf8');
    expect(body).toBe(mapLog(splitLines(text, task.input!)));
    expect(log?.bytes).toBe(statSync(join(out, log!.path!)).size);
  }
  const reduced = manifest.tasks
    .filter((t) => t.phase === 'reduce')
    .flatMap((t) => (t.attempts[0]?.log ? readFileSync(join(out, t.attempts[0].log.path!), 'utf8').split('\n').filter(Boolean) : []));
  expect(reduced.sort()).toEqual(WORDS.map((w) => `reducing ${w}`).sort());
  return manifest;
}

describe('task logs with the embedded cluster', () => {
  it('console.* and process.stdout.write reach stderr with the task prefix and _logs/ per attempt', async () => {
    const out = join(dir, 'out-1');
    const r = await runGmr(['run', CHATTY, '--input', input, '--output', out, ...base]);
    expect(r.code, r.stderr).toBe(0);
    const lines = prefixed(r.stderr);
    const mapped = lines.filter(([p]) => p.startsWith('map ')).map(([, t]) => t);
    expect(mapped.sort()).toEqual(mapLog(WORDS).split('\n').filter(Boolean).sort());
    const reduced = lines.filter(([p]) => p.startsWith('reduce ')).map(([, t]) => t);
    expect(reduced.sort()).toEqual(WORDS.map((w) => `reducing ${w}`).sort());
    const manifest = checkLogs(out);
    // stderr and the file agree task by task.
    for (const task of manifest.tasks.filter((t) => t.phase === 'map')) {
      const own = lines.filter(([p]) => p === `map ${task.index} attempt 1`).map(([, t]) => `${t}\n`).join('');
      expect(own).toBe(readFileSync(join(out, task.attempts[0]!.log!.path!), 'utf8'));
    }
  });

  it('--quiet keeps the logs in _logs/ but prints none of them', async () => {
    const out = join(dir, 'out-quiet');
    const r = await runGmr(['run', CHATTY, '--input', input, '--output', out, ...base, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    checkLogs(out);
  });

  it("a throwing mapper's logs stay, one file per attempt, named in --json's failure summary", async () => {
    const bad = join(dir, 'boom.txt');
    writeFileSync(bad, 'one\nboom\n');
    const out = join(dir, 'out-boom');
    const r = await runGmr(['run', CHATTY, '--input', bad, '--output', out, '--workers', '2', '--reducers', '2', '--max-attempts', '2', '--json']);
    expect(r.code).toBe(1);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
    const failure = JSON.parse(r.stdout.trim()) as Manifest & { ok: boolean };
    expect(failure.ok).toBe(false);
    const task = failure.tasks.find((t) => t.phase === 'map' && t.attempts.length === 2)!;
    for (const attempt of task.attempts) {
      expect(readFileSync(join(out, attempt.log!.path!), 'utf8')).toBe('saw one\nsaw boom\n');
      expect(r.stderr).toContain(`[map ${task.index} attempt ${attempt.attempt}] saw boom\n`);
    }
  });

  it('--log-limit cuts an attempt and says how much was dropped; --run-log-limit bounds the run', async () => {
    const one = join(dir, 'one.txt');
    writeFileSync(one, 'alpha\n');
    const out = join(dir, 'out-cut');
    const r = await runGmr(['run', CHATTY, '--input', one, '--output', out, '--workers', '2', '--reducers', '2', '-p', 'spam=5000', '--log-limit', '1k', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout.trim()) as Manifest;
    const log = manifest.tasks.find((t) => t.phase === 'map')!.attempts[0]!.log!;
    expect(log.truncated).toBe(true);
    const body = readFileSync(join(out, log.path!), 'utf8');
    // 50 lines of 99 x's and a newline, then "saw alpha\n": 5010 bytes, of which 1024 are kept.
    const written = 50 * 100 + 'saw alpha\n'.length;
    expect(body.slice(0, 1024)).toBe(`${'x'.repeat(99)}\n`.repeat(11).slice(0, 1024));
    expect(body.slice(1024)).toBe(`\n[gmr: ${written - 1024} more bytes of this attempt's log were not kept (limit 1024 bytes per task attempt, --log-limit)]\n`);
    expect(prefixed(r.stderr).filter(([p]) => p === 'map 0 attempt 1').length).toBeLessThanOrEqual(12);

    const two = join(dir, 'two.txt');
    writeFileSync(two, 'alpha\nbeta\n');
    const capped = join(dir, 'out-run-cap');
    const c = await runGmr(['run', CHATTY, '--input', two, '--output', capped, '--workers', '2', '--reducers', '2', '--split-size', '6', '-p', 'spam=1000', '--run-log-limit', '1500', '--quiet']);
    expect(c.code, c.stderr).toBe(0);
    const logs = join(capped, '_logs', readdirSync(join(capped, '_logs'))[0]!);
    const texts = readdirSync(logs).filter((f) => f.startsWith('map-')).map((f) => readFileSync(join(logs, f), 'utf8'));
    expect(texts.length).toBe(2);
    const note = /\n?\[gmr: \d+ more bytes of this attempt's log were not kept: the run's task logs reached their limit \(1500 bytes, --run-log-limit\)\]\n$/;
    expect(texts.some((t) => note.test(t))).toBe(true);
    // Each task wrote 1000 bytes of x lines and "saw <line>\n"; the run kept 1500 of those bytes
    // (give or take the newline before a note, which may be the kept text's own).
    const kept = texts.reduce((n, t) => n + Buffer.byteLength(t) - (note.exec(t)?.[0].length ?? 0), 0);
    expect(kept).toBeGreaterThanOrEqual(1498);
    expect(kept).toBeLessThanOrEqual(1500);
  });
});

describe('task logs with gmr workers on a real gearmand', () => {
  let g: GearmandHandle;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    }
    await g?.stop();
  });

  it('workers send the log text back; each attempt log holds only its own lines (--concurrency 2)', async () => {
    g = await startGearmand();
    for (let i = 0; i < 2; i++) children.push(spawnGmr(['worker', '--servers', g.address, '--jobs', CHATTY, '--concurrency', '2', '--input-root', dir, '--quiet']));
    const admin = new AdminClient({ host: g.host, port: g.port });
    try {
      for (let i = 0; i < 400; i++) {
        const rows = await admin.status();
        if ((rows.find((s) => s.function === 'gmr.map.chatty')?.workers ?? 0) >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await admin.close();
    }
    const out = join(dir, 'out-gearmand');
    const r = await runGmr(['run', CHATTY, '--input', input, '--output', out, '--servers', g.address, '--reducers', '2', '--split-size', '12']);
    expect(r.code, r.stderr).toBe(0);
    checkLogs(out);
    const mapped = prefixed(r.stderr).filter(([p]) => p.startsWith('map ')).map(([, t]) => t);
    expect(mapped.sort()).toEqual(mapLog(WORDS).split('\n').filter(Boolean).sort());
  });
});
