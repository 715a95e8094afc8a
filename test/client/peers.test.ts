/**
 * Our Client against workers we did not write: the libgearman `gearman -w` CLI and Perl
 * Gearman::Worker (test/fixtures/perl/worker.pl), through a real gearmand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type JobEvent } from 'gmr';
import { JobExceptionError, JobFailedError } from '../../src/errors.ts';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { useGearmand } from '../helpers/gearmand.ts';

const PERL_WORKER = fileURLToPath(new URL('../fixtures/perl/worker.pl', import.meta.url));
const gearmand = useGearmand();
const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

/** Spawns a peer process and kills it (by its pid) in afterEach. */
function peer(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanup.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  });
  child.once('exit', (code) => {
    if (code) console.error(`${command} exited with ${code}: ${stderr}`);
  });
  return child;
}
const client = (): Client => cleanup.add(new Client({ servers: [gearmand.address] }));

describe('gearman CLI worker (libgearman)', () => {
  it('returns the output of `gearman -w -f fn -- tr a-z A-Z` for each job, binary-safe with cat', async () => {
    const upper = uniqueName('cli_upper');
    const cat = uniqueName('cli_cat');
    const host = ['-h', gearmand.host, '-p', String(gearmand.port)];
    peer('gearman', [...host, '-w', '-f', upper, '--', 'tr', 'a-z', 'A-Z']);
    peer('gearman', [...host, '-w', '-f', cat, '--', 'cat']);
    const c = client();
    expect((await c.submit(upper, 'hello gearman')).toString()).toBe('HELLO GEARMAN');
    expect((await c.submit(upper, 'keyed', { unique: 'cli-key', priority: 'high' })).toString()).toBe('KEYED');
    const binary = Buffer.from([0, 1, 2, 0, 0, 255, 10, 0]);
    expect((await c.submit(cat, binary)).equals(binary)).toBe(true);
  });
});

describe('Perl Gearman::Worker', () => {
  it('returns results and WORK_STATUS progress', async () => {
    const prefix = uniqueName('perl');
    peer('perl', [PERL_WORKER, gearmand.address, prefix]);
    const c = client();
    expect((await c.submit(`${prefix}_upper`, 'from node')).toString()).toBe('FROM NODE');
    const job = c.submit(`${prefix}_status`, 'p', { unique: 'perl-status' });
    const events: JobEvent[] = [];
    for await (const event of job) events.push(event);
    expect(events.filter((e) => e.type !== 'created')).toEqual([
      { type: 'status', numerator: 1, denominator: 2 },
      { type: 'status', numerator: 2, denominator: 2 },
      { type: 'complete', data: Buffer.from('done:p') },
    ]);
  });

  it('a function that dies arrives as WORK_EXCEPTION carrying the Storable-frozen message', async () => {
    const prefix = uniqueName('perl');
    peer('perl', [PERL_WORKER, gearmand.address, prefix]);
    const c = client();
    const error = await c.submit(`${prefix}_die`, 'x').then(() => undefined, (e: unknown) => e);
    // Gearman::Worker sends WORK_EXCEPTION(nfreeze(\$err)) and then WORK_FAIL; gearmand finishes
    // the job at the exception, so the client sees the exception (not the failure).
    expect(error).toBeInstanceOf(JobExceptionError);
    const exception = (error as JobExceptionError).exception;
    expect(exception.includes('perl worker died\n')).toBe(true);
    expect(exception.subarray(0, exception.indexOf('perl worker died')).length).toBeGreaterThan(0); // the Storable header
  });

  it('a function that returns undef arrives as WORK_FAIL', async () => {
    const prefix = uniqueName('perl');
    peer('perl', [PERL_WORKER, gearmand.address, prefix]);
    const error = await client().submit(`${prefix}_undef`, 'x').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
  });
});
