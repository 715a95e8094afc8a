/**
 * The TLS flags of the CLI (src/cli/tls-flags.ts) end to end, with certificates openssl made:
 * gmr server --ssl asking for client certificates, two gmr workers and gmr run --servers --ssl
 * counting words with 2 reducers; plain meeting TLS (either way) in one line; gmr status and
 * gmr dashboard asking a TLS server.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, JobServer } from 'gmr';
import { makeCertificates } from '../helpers/certificates.ts';
import { uniqueName } from '../helpers/cleanup.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, checkManifest, committedOutput, exitOf, mapFn, readManifest, reduceFn, slowCorpus, taskLog, type Proc } from '../helpers/harness.ts';

const certs = makeCertificates();
afterAll(() => certs.remove());
const h = new Harness();
afterEach(() => h.cleanup());

/** What every connecting role passes: trust the test CA, show the client certificate. */
const CLIENT_FLAGS = ['--ssl', '--ssl-ca-file', certs.ca, '--ssl-certificate', certs.clientCert, '--ssl-key', certs.clientKey];
const CLIENT_TLS = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };

async function listeningPort(proc: Proc, what: RegExp): Promise<number> {
  await waitFor(() => what.test(proc.stderr()) || proc.child.exitCode !== null, `${what.source} on stderr`);
  const port = Number(what.exec(proc.stderr())?.[1]);
  if (!Number.isInteger(port)) throw new Error(`no port in: ${proc.stderr()}`);
  return port;
}

async function workersOf(address: string, fn: string): Promise<number> {
  const admin = new AdminClient({ server: address, tls: CLIENT_TLS, connectTimeoutMs: 5000, timeoutMs: 5000 });
  try {
    return (await admin.status()).find((s) => s.function === fn)?.workers ?? 0;
  } catch {
    return 0;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Non-empty lines of a process's stderr. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

describe('gmr server, gmr worker and gmr run over TLS', () => {
  it('count words through gmr server --ssl that asks for client certificates: 2 workers, 2 reducers, the reference output', async () => {
    const dir = h.tempDir('gmr-tls-cli-');
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const server = h.gmr(['server', '--port', '0', '--ssl', '--ssl-certificate', certs.serverCert, '--ssl-key', certs.serverKey, '--ssl-ca-file', certs.ca]);
    const port = await listeningPort(server, /listening on tls:\/\/127\.0\.0\.1:(\d+)/);
    const address = `127.0.0.1:${port}`;
    const log = join(dir, 'tasks.log');
    const workers = [0, 1].map(() => h.gmr(['worker', '--servers', address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet', ...CLIENT_FLAGS], { GMR_TEST_TASK_LOG: log }));
    const job = 'slow-wordcount';
    await waitFor(async () => (await workersOf(address, mapFn(job))) === 2 && (await workersOf(address, reduceFn(job))) === 2, 'two TLS workers');

    const out = join(dir, 'out');
    const run = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--servers', address, '--output', out, '--reducers', '2',
      '--split-size', '4k', '--param', 'mapSleepMs=2', '--quiet', ...CLIENT_FLAGS]);
    const result = await exitOf(run, 120_000);
    expect(result.code, run.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    checkManifest(manifest, input, expected);
    expect(manifest.reduceTasks).toBe(2);
    // Both workers ran tasks (each is slow enough that one worker cannot take them all).
    const ended = taskLog(log).filter((e) => e.what === 'end');
    expect(new Set(ended.map((e) => e.pid))).toEqual(new Set(workers.map((w) => w.pid)));
    for (const w of workers) expect(w.child.exitCode, w.stderr()).toBeNull();
    expect(server.stderr()).not.toMatch(/error/i);
  });

  it('plain meets TLS in one line, either way; flags that need --ssl are usage errors', async () => {
    const tlsServer = await JobServer.listen({ port: 0, tls: { cert: certs.serverCert, key: certs.serverKey } });
    const plainServer = await JobServer.listen({ port: 0 });
    h.defer(() => tlsServer.close());
    h.defer(() => plainServer.close());
    const dir = h.tempDir('gmr-tls-mix-');
    const tlsPlainForm = `127.0.0.1:${tlsServer.port}`;

    // A plain run against the TLS server: told to connect with TLS.
    const plainRun = h.gmr(['run', 'wordcount', '--input', 'data/sample', '--servers', tlsPlainForm, '--output', join(dir, 'a'), '--quiet']);
    expect((await exitOf(plainRun)).code).toBe(69);
    const plainRunErr = lines(plainRun.stderr());
    expect(plainRunErr).toHaveLength(1);
    expect(plainRunErr[0]).toMatch(/^gmr: .*closed before any reply; if it is a TLS server, connect with TLS \(tls:\/\/host:port, or --ssl\)/);

    // A TLS run against the plain server: the handshake fails, and it says so.
    const tlsRun = h.gmr(['run', 'wordcount', '--input', 'data/sample', '--servers', plainServer.address, '--output', join(dir, 'b'), '--quiet', '--ssl', '--ssl-ca-file', certs.ca]);
    expect((await exitOf(tlsRun)).code).toBe(69);
    expect(lines(tlsRun.stderr())).toHaveLength(1);
    expect(tlsRun.stderr()).toMatch(/TLS handshake failed \(is it a plain, non-TLS server\?\): wrong version number/);

    // A TLS worker against the plain server gives up at start with one line.
    const tlsWorker = h.gmr(['worker', '--servers', plainServer.address, '--jobs', 'wordcount', '--quiet', '--ssl', '--ssl-ca-file', certs.ca]);
    const workerExit = await exitOf(tlsWorker, 60_000);
    expect(workerExit.code).not.toBe(0);
    expect(lines(tlsWorker.stderr())).toHaveLength(1);
    expect(tlsWorker.stderr()).toMatch(/^gmr: .*tls:\/\/127\.0\.0\.1:\d+.*TLS handshake failed \(is it a plain, non-TLS server\?\)/);

    // A plain worker against the TLS server keeps retrying (servers come back), each loss in one line naming TLS.
    const plainWorker = h.gmr(['worker', '--servers', tlsPlainForm, '--jobs', 'wordcount']);
    await waitFor(() => /lost 127\.0\.0\.1:\d+/.test(plainWorker.stderr()), 'the plain worker to lose the TLS server');
    const lost = lines(plainWorker.stderr()).find((l) => l.includes('lost'));
    expect(lost).toMatch(/^gmr worker: lost 127\.0\.0\.1:\d+: Lost connection to job server 127\.0\.0\.1:\d+: closed before any reply; if it is a TLS server, connect with TLS \(tls:\/\/host:port, or --ssl\); reconnecting$/);

    for (const [args, message] of [
      [['worker', '--servers', plainServer.address, '--jobs', 'wordcount', '--ssl-ca-file', certs.ca], /^gmr: --ssl-ca-file needs --ssl/],
      [['run', 'wordcount', '--input', 'data/sample', '--servers', plainServer.address, '--ssl', '--ssl-key', certs.clientKey], /^gmr: --ssl-certificate and --ssl-key go together/],
      [['server', '--port', '0', '--ssl'], /^gmr: gmr server --ssl needs --ssl-certificate and --ssl-key/],
      [['status', 'run1', '--servers', plainServer.address, '--ssl-certificate', certs.clientCert], /^gmr: --ssl-certificate needs --ssl/],
      [['dashboard', '--servers', plainServer.address, '--ssl-key', certs.clientKey], /^gmr: --ssl-key needs --ssl/],
    ] as Array<[string[], RegExp]>) {
      const usage = h.gmr(args);
      const exit = await exitOf(usage);
      expect([exit.code, args.join(' ')]).toEqual([64, args.join(' ')]);
      expect(lines(usage.stderr())).toHaveLength(1);
      expect(usage.stderr()).toMatch(message);
    }
  });
});

describe('gmr status and gmr dashboard over TLS', () => {
  it('gmr status RUNID --servers --ssl… lists the run tasks a TLS server holds; without --ssl the server is down, saying TLS', async () => {
    const server = await JobServer.listen({ port: 0, tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true } });
    h.defer(() => server.close());
    const address = `127.0.0.1:${server.port}`;
    const runId = uniqueName('tlsrun');
    const client = new Client({ servers: [server.address], tls: CLIENT_TLS });
    h.defer(() => client.close());
    // Two queued tasks of the run (no worker serves the function), as a driver would have submitted them.
    await client.submitBackground(uniqueName('gmr.map.tls'), 'split 3', { unique: `gmr:${runId}:m:3` });
    await client.submitBackground(uniqueName('gmr.reduce.tls'), 'part 1', { unique: `gmr:${runId}:r:1` });

    const withTls = h.gmr(['status', runId, '--servers', address, '--json', ...CLIENT_FLAGS]);
    expect((await exitOf(withTls)).code, withTls.stderr()).toBe(0);
    const view = JSON.parse(withTls.stdout()) as {
      servers: Array<{ address: string; up: boolean; error: string | null }>;
      tasks: Array<{ phase: string; index: number; known: boolean; running: boolean }>;
    };
    expect(view.servers).toEqual([{ address: `tls://${address}`, up: true, error: null }]);
    expect(view.tasks.map((t) => [t.phase, t.index, t.known, t.running])).toEqual([
      ['map', 3, true, false],
      ['reduce', 1, true, false],
    ]);

    const plain = h.gmr(['status', runId, '--servers', address, '--json']);
    expect((await exitOf(plain)).code).toBe(0);
    const down = JSON.parse(plain.stdout()) as { servers: Array<{ up: boolean; error: string }>; tasks: unknown[] };
    expect(down.servers[0]?.up).toBe(false);
    expect(down.servers[0]?.error).toMatch(/closed before any reply; if it is a TLS server, connect with TLS/);
    expect(down.tasks).toEqual([]);
  });

  it('gmr dashboard --servers --ssl… shows a TLS server up with its version and functions; a plain one beside it too', async () => {
    const tlsServer = await JobServer.listen({ port: 0, tls: { cert: certs.serverCert, key: certs.serverKey } });
    const plainServer = await JobServer.listen({ port: 0 });
    h.defer(() => tlsServer.close());
    h.defer(() => plainServer.close());
    const fn = uniqueName('dashtls');
    const client = new Client({ servers: [tlsServer.address], tls: { ca: certs.ca } });
    h.defer(() => client.close());
    await client.submitBackground(fn, 'queued');

    // --ssl makes every listed server TLS: the plain one shows down, with the handshake's reason.
    const dashboard = h.gmr(['dashboard', '--servers', `127.0.0.1:${tlsServer.port},${plainServer.address}`, '--port', '0', '--interval', '0.2', '--ssl', '--ssl-ca-file', certs.ca]);
    await waitFor(() => /gmr dashboard on (http:\/\/\S+)/.test(dashboard.stderr()) || dashboard.child.exitCode !== null, 'the dashboard URL');
    const url = /gmr dashboard on (http:\/\/\S+)/.exec(dashboard.stderr())?.[1];
    expect(url, dashboard.stderr()).toBeDefined();
    type View = { cluster: { servers: Array<{ address: string; up: boolean; version: string | null; error: string | null }>; functions: Array<{ function: string; queued: number }> } | null };
    let view: View = { cluster: null };
    await waitFor(async () => {
      view = (await (await fetch(new URL('view.json', url))).json()) as View;
      return view.cluster?.functions.some((f) => f.function === fn) === true;
    }, 'the TLS server in the dashboard');
    const [ours, plain] = view.cluster?.servers ?? [];
    expect(ours).toMatchObject({ address: `tls://127.0.0.1:${tlsServer.port}`, up: true, version: '1.1.20+gmr', error: null });
    expect(plain).toMatchObject({ address: `tls://${plainServer.address}`, up: false });
    expect(plain?.error).toMatch(/TLS handshake failed \(is it a plain, non-TLS server\?\)/);
    expect(view.cluster?.functions.find((f) => f.function === fn)?.queued).toBe(1);
    dashboard.child.kill('SIGTERM');
    expect((await exitOf(dashboard)).code).toBe(0);
  });
});
