/**
 * A plain Client, Worker or AdminClient whose server answers in TLS (a TLS alert record, as a
 * TLS-only server or a TLS proxy sends to bytes that are not a ClientHello): each fails with one
 * line that says to connect with TLS, through the one socket reader they share.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, Worker } from 'gmr';
import { Cleanup, uniqueName } from '../helpers/cleanup.ts';

/** A TLS alert record (content type 21, version 3.3, length 2: fatal, handshake_failure). */
const TLS_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
const SAYS_TLS = 'it answered in TLS: connect with TLS (tls://host:port, or --ssl)';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A server that answers the first bytes of every connection with a TLS alert and then closes it. */
async function tlsSpeaker(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => socket.end(TLS_ALERT));
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return `127.0.0.1:${port}`;
}

describe('a plain connection that hears TLS', () => {
  it('Client: the submit fails with one line naming the server and TLS', async () => {
    const address = await tlsSpeaker();
    const client = cleanup.add(new Client({ servers: [address] }));
    const reported: Error[] = [];
    client.on('error', (e) => reported.push(e));
    const error = await client.submit(uniqueName('tls-answer'), 'x', { timeoutMs: 20_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(address);
    expect(error?.message).toContain(SAYS_TLS);
    expect(error?.message.includes('\n')).toBe(false);
    expect(reported.map((e) => e.message)).toEqual([`Lost connection to job server ${address}: ${SAYS_TLS}`]);
  });

  it('AdminClient: the command fails with one line naming the server and TLS', async () => {
    const address = await tlsSpeaker();
    const admin = cleanup.add(new AdminClient({ server: address }));
    const error = await admin.status().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(`Admin connection to ${address} closed: ${SAYS_TLS}`);
  });

  it('Worker: the connection it loses is reported with the same line', async () => {
    const address = await tlsSpeaker();
    const worker = cleanup.add(new Worker({ servers: [address], initialBackoffMs: 10_000 }));
    const lost = new Promise<Error>((resolve) => worker.once('disconnect', (_server, error) => resolve(error)));
    worker.register(uniqueName('tls-answer'), () => '');
    await worker.start().catch(() => {});
    const error = await lost;
    expect(error.message).toContain(address);
    expect(error.message).toContain(SAYS_TLS);
  });
});
