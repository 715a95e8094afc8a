/**
 * gmr's Worker, Client and AdminClient against the original Perl Gearman::Server (Debian package
 * gearman-server, `/usr/bin/gearmand` there), started by the test on a free port. It lacks
 * GRAB_JOB_UNIQ, LOW priority, HIGH background and GET_STATUS_UNIQUE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.ts';
import { Client } from '../../src/client/client.ts';
import { ServerError } from '../../src/errors.ts';
import { Worker } from '../../src/worker/worker.ts';
import { freePort, waitForPort } from '../helpers/gearmand.ts';

const PERL_SERVER = '/usr/bin/gearmand';
let server: ChildProcess | undefined;
let address = '';
let port = 0;

beforeAll(async () => {
  if (!existsSync(PERL_SERVER)) throw new Error('The Perl Gearman::Server is not installed: apt-get install -y gearman-server (.ci/run does this)');
  port = await freePort();
  address = `127.0.0.1:${port}`;
  server = spawn('perl', [PERL_SERVER, '--port', String(port), '--listen', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitForPort(port);
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }
});

describe('the Perl Gearman::Server', () => {
  it('runs jobs for gmr’s Worker (falling back to GRAB_JOB) and Client, NORMAL and HIGH, foreground and background', async () => {
    const fn = `perlsrv-${process.pid}`;
    const worker = new Worker({ servers: [address], concurrency: 2 });
    const ran: string[] = [];
    const errors: Error[] = [];
    worker.on('error', (error) => errors.push(error));
    worker.register(fn, (job) => {
      ran.push(job.payload.toString());
      return job.payload.toString().toUpperCase();
    });
    const client = new Client({ servers: [address] });
    try {
      await worker.start();
      const results = await Promise.all([client.submit(fn, 'normal'), client.submit(fn, 'high', { priority: 'high' })]);
      expect(results.map(String)).toEqual(['NORMAL', 'HIGH']);
      await client.submitBackground(fn, 'background');
      await expect.poll(() => ran.includes('background'), { timeout: 20_000 }).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await client.close();
      await worker.close();
    }
  });

  it('the Client says which feature the server lacks: LOW priority, HIGH background, GET_STATUS_UNIQUE', async () => {
    const fn = `perlsrv-missing-${process.pid}`;
    const client = new Client({ servers: [address] });
    try {
      const low = await client.submit(fn, 'x', { priority: 'low' }).then(() => undefined, (e: unknown) => e);
      expect(low).toBeInstanceOf(ServerError);
      expect((low as ServerError).serverCode).toBe('UNKNOWN_COMMAND');
      expect((low as Error).message).toContain(`${address} does not support SUBMIT_JOB_LOW`);
      await expect(client.submitBackground(fn, 'x', { priority: 'high' })).rejects.toThrow(`${address} does not support SUBMIT_JOB_HIGH_BG`);
      await expect(client.getStatusUnique('some-unique')).rejects.toThrow(`${address} does not support GET_STATUS_UNIQUE`);
      // The connection still works after those refusals.
      await expect(client.submitBackground(fn, 'y')).resolves.toMatch(/^H:/);
    } finally {
      await client.close();
    }
  });

  it('AdminClient reads its bare version and its status lines', async () => {
    const admin = new AdminClient({ server: address });
    try {
      expect(await admin.version()).toBe('v1.130.1');
      const rows = await admin.status();
      expect(rows.some((r) => r.function === `perlsrv-missing-${process.pid}` && r.total === 1)).toBe(true);
    } finally {
      await admin.close();
    }
  });
});
