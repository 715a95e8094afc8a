/**
 * TLS: gmr's Client, Worker and AdminClient through a TLS JobServer (CA checked, client
 * certificates when the server asks), one-line errors when TLS meets plain either way, a mixed
 * server list, and what Debian's gearmand 1.1.20 does with --ssl (it still speaks plain Gearman).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, JobServer, Worker } from 'gmr';
import { parseServerAddress, type ServerAddress } from '../../src/connection/server-address.ts';
import { ConnectionError, UsageError } from '../../src/errors.ts';
import { makeCertificates } from '../helpers/certificates.ts';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';
import { startGearmand } from '../helpers/gearmand.ts';

const certs = makeCertificates();
afterAll(() => certs.remove());
const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const tlsServer = async (requestCert = false): Promise<JobServer> =>
  cleanup.add(
    await JobServer.listen({
      port: 0,
      tls: { cert: certs.serverCert, key: certs.serverKey, ...(requestCert ? { ca: certs.ca, requestCert } : {}) },
    }),
  );

function upperWorker(servers: Array<string | ServerAddress>, fn: string, tls?: { ca: string }): Worker {
  const worker = cleanup.add(new Worker({ servers, concurrency: 2, startTimeoutMs: 20_000, ...(tls ? { tls } : {}) }));
  worker.register(fn, (job) => job.payload.toString().toUpperCase());
  return worker;
}

async function startError(worker: Worker): Promise<Error> {
  return worker.start().then(
    () => new Error('start() resolved'),
    (error: Error) => error,
  );
}

describe('TLS with JobServer', () => {
  it('runs jobs from a Client through a Worker, the server certificate checked against the CA', async () => {
    const server = await tlsServer();
    expect(server.address).toBe(`tls://127.0.0.1:${server.port}`);
    const fn = uniqueName('tls');
    await upperWorker([server.address], fn, { ca: certs.ca }).start();
    const client = cleanup.add(new Client({ servers: [server.address], tls: { ca: certs.ca } }));
    const results = await Promise.all(['alpha', 'beta', 'gamma'].map((p) => client.submit(fn, p)));
    expect(results.map(String)).toEqual(['ALPHA', 'BETA', 'GAMMA']);
    const admin = cleanup.add(new AdminClient({ server: server.address, tls: { ca: certs.ca } }));
    expect((await admin.status()).find((s) => s.function === fn)?.workers).toBe(1);
  });

  it('with requestCert, serves a client that shows a certificate from the CA and refuses one that shows none', async () => {
    const server = await tlsServer(true);
    const fn = uniqueName('mtls');
    const withCert = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const worker = cleanup.add(new Worker({ servers: [server.address], tls: withCert, startTimeoutMs: 20_000 }));
    worker.register(fn, (job) => `ok ${job.payload.toString()}`);
    await worker.start();
    const client = cleanup.add(new Client({ servers: [server.address], tls: withCert }));
    expect((await client.submit(fn, 'x')).toString()).toBe('ok x');

    // TLS 1.3: the client's handshake ends before the server checks its certificate, so the
    // refusal arrives as an alert on the first request.
    const anonymous = cleanup.add(new Client({ servers: [server.address], tls: { ca: certs.ca } }));
    const error = await anonymous.submit(fn, 'y', { timeoutMs: 20_000 }).then(
      () => new Error('submit resolved'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain('if the server asks for a client certificate, give one');
    expect(error.message).not.toContain('\n');
  });

  it('refuses a server whose certificate another CA signed, saying why in one line', async () => {
    const server = await tlsServer();
    const worker = cleanup.add(new Worker({ servers: [server.address], tls: { ca: certs.otherCa }, startTimeoutMs: 3000 }));
    worker.register(uniqueName('ca'), () => '');
    const error = await startError(worker);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
    expect(error.message).not.toContain('\n');
  });

  it('a plain Client against a TLS server fails with a one-line error that names TLS, not a hang', async () => {
    const server = await tlsServer();
    const client = cleanup.add(new Client({ servers: [`127.0.0.1:${server.port}`] }));
    const error = await client.submit(uniqueName('plain'), 'x', { timeoutMs: 20_000 }).then(
      () => new Error('submit resolved'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain('closed before any reply; if it is a TLS server, connect with TLS');
    expect(error.message).not.toContain('\n');
  });

  it('a TLS Worker against a plain server fails with a one-line error that names the handshake', async () => {
    const plain = cleanup.add(await JobServer.listen({ port: 0 }));
    const worker = cleanup.add(new Worker({ servers: [`tls://${plain.address}`], startTimeoutMs: 3000 }));
    worker.register(uniqueName('tlsplain'), () => '');
    const error = await startError(worker);
    expect(error.message).toContain(`tls://${plain.address}`);
    expect(error.message).toContain('TLS handshake failed (is it a plain, non-TLS server?)');
    expect(error.message).not.toContain('\n');
  });

  it('mixes a plain and a TLS server in one list: one Worker serves both', async () => {
    const plain = cleanup.add(await JobServer.listen({ port: 0 }));
    const secure = await tlsServer();
    const fn = uniqueName('mixed');
    await upperWorker([plain.address, { host: secure.host, port: secure.port, tls: { ca: certs.ca } }], fn).start();
    const viaPlain = cleanup.add(new Client({ servers: [plain.address] }));
    const viaTls = cleanup.add(new Client({ servers: [secure.address], tls: { ca: certs.ca } }));
    expect((await viaPlain.submit(fn, 'plain')).toString()).toBe('PLAIN');
    expect((await viaTls.submit(fn, 'secure')).toString()).toBe('SECURE');
  });

  it('parses tls://host:port, and names a missing certificate file in a UsageError', () => {
    expect(parseServerAddress('tls://example.org:4731')).toEqual({ host: 'example.org', port: 4731, tls: {} });
    expect(parseServerAddress('TLS://[::1]')).toEqual({ host: '::1', port: 4730, tls: {} });
    expect(parseServerAddress('example.org:4731')).toEqual({ host: 'example.org', port: 4731 });
    expect(() => new Client({ servers: ['tls://127.0.0.1:1'], tls: { ca: '/nonexistent/ca.pem' } }).submit('f', 'x')).toThrow(
      UsageError,
    );
    expect(() => new AdminClient({ server: 'tls://127.0.0.1:1', tls: { ca: '/nonexistent/ca.pem' } })).toThrow(
      /Cannot read TLS CA file "\/nonexistent\/ca.pem"/,
    );
  });
});

describe("Debian's gearmand 1.1.20 with --ssl", () => {
  // Probed: it logs "Initializing Gear on port N with SSL: true" and then reads a TLS ClientHello as
  // Gearman ("invalid magic value"): the build has no TLS (gearmand's TLS needs wolfSSL/CyaSSL).
  it('still speaks plain Gearman: a plain gmr Client and Worker work, a TLS one gets the handshake error', async () => {
    const gearmand = await startGearmand([
      '--ssl',
      '--ssl-ca-file',
      certs.ca,
      '--ssl-certificate',
      certs.serverCert,
      '--ssl-key',
      certs.serverKey,
    ]);
    cleanup.add({ close: () => gearmand.stop() });
    const fn = uniqueName('gssl');
    await upperWorker([gearmand.address], fn).start();
    const client = cleanup.add(new Client({ servers: [gearmand.address] }));
    expect((await client.submit(fn, 'clear')).toString()).toBe('CLEAR');

    const secure = cleanup.add(
      new Worker({ servers: [gearmand.address], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, startTimeoutMs: 3000 }),
    );
    secure.register(fn, () => '');
    const error = await startError(secure);
    expect(error.message).toContain('TLS handshake failed (is it a plain, non-TLS server?)');
  });
});
