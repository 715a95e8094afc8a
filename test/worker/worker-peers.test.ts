/**
 * Real peers submit, our worker serves: the `gearman` CLI (libgearman 1.1.20, SUBMIT_JOB with a
 * UUID unique, no exceptions option) and Perl Gearman::Client 2.004 (empty unique, GRAB-era client).
 */
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Worker, type JobHandler } from '../../src/worker/worker.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; the kill timer is a safety net so a hanging peer fails the test instead. */
function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const perl = (script: string, ...args: string[]): Promise<Run> => run('perl', ['-MGearman::Client', '-e', script, ...args]);
const PERL_CLIENT = 'my ($port, $fn, $arg) = @ARGV; my $c = Gearman::Client->new(job_servers => ["127.0.0.1:$port"]);';

const gearmand = useGearmand();
let worker: Worker | undefined;
let counter = 0;
const fnName = (what: string): string => `peer-${what}-${process.pid}-${++counter}`;

afterEach(async () => {
  await worker?.close({ timeoutMs: 0 });
  worker = undefined;
});

async function serve(fn: string, handler: JobHandler): Promise<Worker> {
  worker = new Worker({ servers: [gearmand.address] });
  worker.register(fn, handler);
  await worker.start();
  return worker;
}

describe('gearman CLI as the client', () => {
  it('prints the result of a job our worker served', async () => {
    const fn = fnName('cli');
    await serve(fn, (job) => [...job.payload.toString()].reverse().join(''));
    const result = await run('gearman', ['-h', '127.0.0.1', '-p', String(gearmand.port), '-f', fn, 'hello cli']);
    expect(result).toMatchObject({ code: 0, stdout: 'ilc olleh' });
  });

  it('sees a failing handler as a failed job with its message, instead of waiting forever', async () => {
    const fn = fnName('cli-fail');
    await serve(fn, () => {
      throw new Error('disk on fire');
    });
    const result = await run('gearman', ['-h', '127.0.0.1', '-p', String(gearmand.port), '-f', fn, 'x']);
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toContain('disk on fire');
    expect(`${result.stdout}${result.stderr}`).toContain('Job failed');
  });
});

describe('Perl Gearman::Client as the client', () => {
  it('do_task returns a reference to the result', async () => {
    const fn = fnName('perl');
    await serve(fn, (job) => `perl got ${job.payload.toString()} unique=[${job.unique}]`);
    const result = await perl(`${PERL_CLIENT} my $r = $c->do_task($fn, $arg); print defined $r ? $$r : "UNDEF";`, String(gearmand.port), fn, 'abc');
    expect(result).toMatchObject({ code: 0, stdout: 'perl got abc unique=[]' });
  });

  it('dispatch_background hands the job to our worker', async () => {
    const fn = fnName('perl-bg');
    const seen: string[] = [];
    await serve(fn, (job) => {
      seen.push(job.payload.toString());
    });
    const result = await perl(`${PERL_CLIENT} my $h = $c->dispatch_background($fn, $arg); print defined $h ? "ok" : "no handle";`, String(gearmand.port), fn, 'in the background');
    expect(result).toMatchObject({ code: 0, stdout: 'ok' });
    await waitFor(() => seen.length === 1, 'the background job');
    expect(seen).toEqual(['in the background']);
  });

  it('a task set receives status, data and the result in order', async () => {
    const fn = fnName('perl-status');
    await serve(fn, (job) => {
      job.sendStatus(1, 4);
      job.sendData('chunk');
      job.sendStatus(3, 4);
      return `R:${job.payload.toString()}`;
    });
    const script = `${PERL_CLIENT} my $ts = $c->new_task_set; $ts->add_task($fn, $arg, {
      on_status => sub { print "status $_[0]/$_[1]\\n" },
      on_data => sub { print "data \${$_[0]}\\n" },
      on_complete => sub { print "complete \${$_[0]}\\n" },
      on_fail => sub { print "fail\\n" } }); $ts->wait;`;
    const result = await perl(script, String(gearmand.port), fn, 'ts');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual(['status 1/4', 'data chunk', 'status 3/4', 'complete R:ts', '']);
  });

  it('a failing handler reaches on_warning and on_fail (the client does not die)', async () => {
    const fn = fnName('perl-fail');
    await serve(fn, () => {
      throw new Error('bad input');
    });
    const script = `${PERL_CLIENT} my $r = $c->do_task($fn, $arg, {
      on_warning => sub { print "warning \${$_[0]}\\n" }, on_fail => sub { print "fail\\n" } });
      print defined $r ? "result" : "undef";`;
    const result = await perl(script, String(gearmand.port), fn, 'x');
    expect(result).toMatchObject({ code: 0, stdout: 'warning bad input\nfail\nundef' });
  });
});
