/**
 * Real Gearman peers against JobServer: the libgearman `gearman` CLI as client and worker (its
 * worker uses GRAB_JOB_ALL), Perl Gearman::Client / Gearman::Worker (GRAB_JOB, SET_CLIENT_ID,
 * empty uniques), and gearadmin reading the admin protocol.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.ts';
import { JobServer } from '../../src/server/job-server.ts';
import { killChild } from '../helpers/gmr-cli.ts';
import { adminRaw } from '../helpers/packet-socket.ts';
import { waitFor } from '../helpers/wait-for.ts';

const run = promisify(execFile);
let server: JobServer;
let children: ChildProcess[] = [];
let counter = 0;
const fnName = (what: string): string => `peer-${what}-${process.pid}-${++counter}`;

beforeEach(async () => {
  server = await JobServer.listen({ port: 0 });
});
afterEach(async () => {
  await Promise.all(children.map(killChild));
  children = [];
  await server.close();
});

function background(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

/** Waits until `status` shows `workers` registrations of fn. */
async function workersOf(fn: string, workers: number): Promise<void> {
  await waitFor(async () => (await adminRaw(server.port, 'status')).split('\n').some((row) => row === `${fn}\t0\t0\t${workers}`), `${workers} worker(s) for ${fn}`);
}

const hostPort = (): string[] => ['-h', '127.0.0.1', '-p', String(server.port)];

describe('JobServer with real Gearman peers', () => {
  it('gearman CLI: a `gearman -w` worker (GRAB_JOB_ALL) serves `gearman -f` clients', async () => {
    const fn = fnName('cli');
    background('gearman', [...hostPort(), '-w', '-f', fn, '--', 'tr', 'a-z', 'A-Z']);
    await workersOf(fn, 1);
    const { stdout } = await run('gearman', [...hostPort(), '-f', fn, 'hello world'], { timeout: 20_000 });
    expect(stdout).toBe('HELLO WORLD');
    const second = await run('gearman', [...hostPort(), '-f', fn, '-u', 'my-unique', 'again'], { timeout: 20_000 });
    expect(second.stdout).toBe('AGAIN');
  });

  it('gearman CLI: background jobs reach the worker (shown by show jobs until taken)', async () => {
    const fn = fnName('clibg');
    await run('gearman', [...hostPort(), '-f', fn, '-b', 'queued'], { timeout: 20_000 });
    const jobs = await adminRaw(server.port, 'show jobs');
    expect(jobs).toMatch(/^H:[^\t]+:\d+\t0\t0\t1\n\.\n$/);
    background('gearman', [...hostPort(), '-w', '-f', fn, '-c', '1', '--', 'cat']);
    await waitFor(async () => (await adminRaw(server.port, 'show jobs')) === '.\n', 'the background job to be run');
  });

  it('Perl Gearman::Worker and Gearman::Client', async () => {
    const fn = fnName('perl');
    const port = String(server.port);
    background('perl', [
      '-MGearman::Worker',
      '-e',
      'my $w = Gearman::Worker->new(job_servers => ["127.0.0.1:$ARGV[0]"]); ' +
        '$w->register_function($ARGV[1] => sub { scalar reverse $_[0]->arg }); $w->work while 1;',
      port,
      fn,
    ]);
    await workersOf(fn, 1);
    const { stdout } = await run(
      'perl',
      [
        '-MGearman::Client',
        '-e',
        'my $c = Gearman::Client->new(job_servers => ["127.0.0.1:$ARGV[0]"]); ' +
          'my $r = $c->do_task($ARGV[1] => "stressed", { on_fail => sub { print "FAILED" } }); print $$r if $r; ' +
          'my $s = $c->new_task_set; my @out; ' +
          '$s->add_task($ARGV[1] => $_, { on_complete => sub { push @out, ${$_[0]} } }) for qw(abc xyz); $s->wait; ' +
          'print " ", join(",", sort @out);',
        port,
        fn,
      ],
      { timeout: 20_000 },
    );
    expect(stdout).toBe('desserts cba,zyx');
  });

  it("Perl Gearman::Worker returning '' and '0' (a handle-only WORK_COMPLETE): the client gets an empty result, the worker keeps serving", async () => {
    const fn = fnName('perlzero');
    // Gearman::Worker 2.004 sends `$v ? "handle\0$v" : "handle"`: '' and '0' leave only the handle
    // (so '0' is lost before it reaches any server; gearmand 1.1.20 forwards nothing at all and the
    // client waits forever), and set_status(0, 3) a WORK_STATUS without its counts.
    const worker = background('perl', [
      '-MGearman::Worker',
      '-e',
      'my $w = Gearman::Worker->new(job_servers => ["127.0.0.1:$ARGV[0]"]); ' +
        '$w->register_function($ARGV[1] => sub { my $a = $_[0]->arg; $_[0]->set_status(0, 3); ' +
        'return $a eq "empty" ? "" : $a eq "zero" ? "0" : "got $a" }); $w->work while 1;',
      String(server.port),
      fn,
    ]);
    await workersOf(fn, 1);
    const client = new Client({ servers: [server.address] });
    try {
      const results: string[] = [];
      for (const arg of ['zero', 'empty', 'x', 'zero', 'empty', 'y']) results.push(String(await client.submit(fn, arg)));
      expect(results).toEqual(['', '', 'got x', '', '', 'got y']);
    } finally {
      await client.close();
    }
    expect(worker.exitCode).toBe(null);
    expect((await adminRaw(server.port, 'status')).split('\n')).toContain(`${fn}\t0\t0\t1`);
  });

  it('gearadmin --status, --workers, --show-jobs, --server-version, --getpid', async () => {
    const fn = fnName('admin');
    background('gearman', [...hostPort(), '-w', '-f', fn, '--', 'cat']);
    await workersOf(fn, 1);
    await run('gearman', [...hostPort(), '-f', `${fn}-idle`, '-b', 'x'], { timeout: 20_000 });
    const status = (await run('gearadmin', [...hostPort(), '--status'])).stdout;
    expect(status.split('\n')).toEqual(expect.arrayContaining([`${fn}\t0\t0\t1`, `${fn}-idle\t1\t0\t0`]));
    const workers = (await run('gearadmin', [...hostPort(), '--workers'])).stdout;
    expect(workers).toMatch(new RegExp(`^\\d+ 127\\.0\\.0\\.1 \\S+ : ${fn}$`, 'm'));
    const jobs = (await run('gearadmin', [...hostPort(), '--show-jobs'])).stdout;
    expect(jobs).toMatch(/^H:[^\t]+:\d+\t0\t0\t1$/m);
    expect((await run('gearadmin', [...hostPort(), '--server-version'])).stdout.trim()).toBe('1.1.20+gmr');
    expect((await run('gearadmin', [...hostPort(), '--getpid'])).stdout.trim()).toBe(String(process.pid));
  });
});
