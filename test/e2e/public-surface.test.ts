/**
 * The public surface: a plain Node script in the project folder imports gmr by name (the compiled
 * package, as `npm test` and `npm pack` build it) and gets the documented classes and functions.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, userEnv } from '../helpers/gmr-cli.ts';

describe("import from 'gmr'", () => {
  it('exposes Client, Worker, AdminClient, JobServer, defineJob and runJob to plain Node', () => {
    const script = `
      import { Client, Worker, AdminClient, JobServer, defineJob, runJob, startTaskWorker, GearmanError } from 'gmr';
      const job = defineJob({ map(line, ctx) { ctx.emit(line, 1); } });
      console.log(JSON.stringify([typeof Client, typeof Worker, typeof AdminClient, typeof JobServer, typeof runJob,
        typeof startTaskWorker, typeof GearmanError, typeof job.map, typeof JobServer.listen]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', 'function', 'function', 'function', 'function', 'function']);
  });

  it("keeps the codec and the admin text format in 'gmr/protocol', out of the main entry", () => {
    const script = `
      import * as gmr from 'gmr';
      import * as protocol from 'gmr/protocol';
      const parser = new protocol.PacketParser({ onPacket: (p) => console.log(JSON.stringify({ type: p.type })) });
      parser.push(protocol.encodePacket({ magic: 'REQ', type: 'ECHO_REQ', data: Buffer.from('hi') }));
      console.log(JSON.stringify({
        main: Object.keys(gmr).sort(),
        protocol: ['PacketParser', 'encodePacket', 'parseStatusLines', 'parseWorkersLines', 'DEFAULT_PORT'].map((n) => typeof protocol[n]),
      }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
    const [echo, surface] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(echo).toEqual({ type: 'ECHO_REQ' });
    expect(surface?.['protocol']).toEqual(['function', 'function', 'function', 'function', 'number']);
    // Hand-written: the roles, the job API, the errors and DEFAULT_PORT, nothing of the codec.
    expect(surface?.['main']).toEqual([
      'AbortError', 'AdminClient', 'Client', 'ClosedError', 'ConnectionError', 'DEFAULT_PORT', 'DeadlineError', 'GearmanError', 'InputError',
      'InterruptedError', 'JobDefinitionError', 'JobExceptionError', 'JobFailedError', 'JobHandle', 'JobServer', 'LockHeldError',
      'OutcomeUnknownError', 'OutputError', 'ProtocolError', 'RunError', 'ServerError', 'TaskError', 'TimeoutError', 'UnavailableError',
      'UsageError', 'Worker', 'compareNatural', 'defineJob', 'listBuiltinJobs', 'listRuns',
      'loadJob', 'readStatusFile', 'runJob', 'serverTasks', 'startTaskWorker', 'step', 'watchRun',
    ]);
  });

  it('exposes the run status readers behind gmr status: listRuns, readStatusFile, watchRun, serverTasks', () => {
    const script = `
      import { listRuns, readStatusFile, watchRun, serverTasks } from 'gmr';
      console.log(JSON.stringify([typeof listRuns, typeof readStatusFile, typeof watchRun, typeof serverTasks, await listRuns('/nonexistent-gmr-folder')]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', []]);
  });

  it('runs a job end to end through the programmatic core with an embedded server', async () => {
    const script = `
      import { runJob } from 'gmr';
      import { Writable } from 'node:stream';
      let text = '';
      const stdout = new Writable({ write(chunk, _e, cb) { text += chunk; cb(); } });
      const summary = await runJob({ job: 'wordcount', input: ['data/sample/licenses/BSD.txt'], workers: 2, reducers: 2, splitSize: 300, stdout });
      console.log(JSON.stringify({ lines: text.split('\\n').filter(Boolean).length, mapTasks: summary.mapTasks, reduceTasks: summary.reduceTasks }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
    const result = JSON.parse(out) as { lines: number; mapTasks: number; reduceTasks: number };
    expect(result.reduceTasks).toBe(2);
    expect(result.mapTasks).toBeGreaterThan(2);
    expect(result.lines).toBeGreaterThan(50);
  });

  it('exports every error runJob throws, so a caller can tell them apart by class (a held lock, no servers)', () => {
    const script = `
      import { runJob, GearmanError, RunError, LockHeldError, UnavailableError, OutputError, DeadlineError, InterruptedError } from 'gmr';
      import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
      import { tmpdir, hostname } from 'node:os';
      import { join } from 'node:path';
      const out = mkdtempSync(join(tmpdir(), 'gmr-surface-'));
      mkdirSync(join(out, '_temporary'));
      // A live process (this one) on this host holds the lock.
      writeFileSync(join(out, '_temporary', '_lock'), JSON.stringify({ pid: process.pid, host: hostname(), runId: 'x', startedAt: 'now' }));
      const seen = [];
      for (const options of [{ output: out, workers: 2 }, { servers: ['127.0.0.1:1'], stdout: process.stdout, secret: 'gmr-test-suite-secret-0123456789abcdef' }]) {
        try { await runJob({ job: 'wordcount', input: ['data/sample/licenses/BSD.txt'], reducers: 2, ...options }); seen.push('no error'); }
        // A failure once the run started is a RunError whose cause is what went wrong.
        catch (e) { const why = e instanceof RunError ? e.cause : e; seen.push([e instanceof GearmanError, why instanceof LockHeldError, why instanceof UnavailableError, why.code]); }
      }
      const made = [new OutputError('o'), new DeadlineError('d'), new InterruptedError('SIGINT', 'i')].map((e) => [e instanceof GearmanError, e.code]);
      console.log(JSON.stringify({ seen, made }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      seen: [[true, true, false, 'GMR_ERR_LOCKED'], [true, false, true, 'GMR_ERR_UNAVAILABLE']],
      made: [[true, 'GMR_ERR_OUTPUT'], [true, 'GMR_ERR_DEADLINE'], [true, 'GMR_ERR_INTERRUPTED']],
    });
  });
});
