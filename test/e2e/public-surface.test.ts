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
      'AbortError', 'AdminClient', 'Client', 'ClosedError', 'ConnectionError', 'DEFAULT_PORT', 'GearmanError', 'InputError',
      'JobDefinitionError', 'JobExceptionError', 'JobFailedError', 'JobHandle', 'JobServer', 'OutcomeUnknownError', 'ProtocolError',
      'RunError', 'ServerError', 'TaskError', 'TimeoutError', 'UsageError', 'Worker', 'compareNatural', 'defineJob', 'listBuiltinJobs', 'listRuns',
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
});
