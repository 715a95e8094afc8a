/**
 * Issue 16's memory probes against a `gmr server` child process, reading its RSS from
 * /proc/PID/status: each hostile pattern leaves the server bounded (generous margins, no timing).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { packetHeader } from '../fixtures/packets.ts';
import { spawnGmr } from '../helpers/gmr-cli.ts';
import { adminRaw } from '../helpers/packet-socket.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MiB = 1024 * 1024;
let child: ChildProcess | undefined;
let sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

async function startServer(args: string[] = []): Promise<{ port: number; pid: number }> {
  child = spawnGmr(['server', '--port', '0', ...args]);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(stderr), 'gmr server to listen', 30_000);
  return { port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]), pid: child.pid as number };
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) * 1024;
}


async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** Everything the server sends until it closes the connection. */
function replyUntilClose(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

describe('gmr server memory under hostile peers (RSS of the server process)', () => {
  it('five 20 MiB function names: refused from the header, nothing kept, status stays empty', async () => {
    const { port, pid } = await startServer();
    const before = rssBytes(pid);
    const replies = await Promise.all(
      [0, 1, 2, 3, 4].map(async () => {
        const s = await connect(port);
        const reply = replyUntilClose(s);
        s.write(Buffer.concat([packetHeader(1, 20 * MiB), Buffer.alloc(256 * 1024, 0x61)]));
        return reply;
      }),
    );
    for (const reply of replies) {
      expect(reply.subarray(12).toString('latin1')).toBe(
        'ARGUMENT_TOO_LARGE\0CAN_DO packet declares 20971520 bytes of arguments, more than the maximum of 16384 for a packet without a payload',
      );
    }
    expect(await adminRaw(port, 'status')).toBe('.\n');
    expect(rssBytes(pid) - before).toBeLessThan(32 * MiB);
  });

  it('a 200 MB packet: ERROR ARGUMENT_TOO_LARGE at the 128 MiB default, before it is buffered', async () => {
    const { port, pid } = await startServer();
    const before = rssBytes(pid);
    const s = await connect(port);
    const reply = replyUntilClose(s);
    s.write(Buffer.concat([packetHeader(16, 200_000_000), Buffer.alloc(MiB, 0x62)]));
    expect((await reply).subarray(12).toString('latin1')).toBe(
      'ARGUMENT_TOO_LARGE\0ECHO_REQ packet declares 200000000 bytes of data, more than the maximum of 134217728',
    );
    expect(rssBytes(pid) - before).toBeLessThan(32 * MiB);
  });

  it('a client flooding ECHO_REQ without reading: the server stops reading it and stays bounded', async () => {
    const { port, pid } = await startServer();
    const before = rssBytes(pid);
    const s = await connect(port);
    s.pause();
    const ping = Buffer.concat([packetHeader(16, 64 * 1024), Buffer.alloc(64 * 1024, 0x63)]);
    // Offer 256 MiB; a server that kept reading would hold every reply.
    let offered = 0;
    while (offered < 256 * MiB) {
      if (s.writableLength > 8 * MiB) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => s.once('drain', () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
        ]);
        if (!drained) break;
      }
      s.write(ping);
      offered += ping.length;
    }
    expect(offered).toBeLessThan(256 * MiB);
    expect(rssBytes(pid) - before).toBeLessThan(96 * MiB);
    // Another peer is still served.
    expect(await adminRaw(port, 'status')).toBe('.\n');
  });

  it('--max-memory: background jobs past the budget are refused with QUEUE_ERROR naming it', async () => {
    const { port, pid } = await startServer(['--max-memory', String(64 * MiB)]);
    const before = rssBytes(pid);
    const s = await connect(port);
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    const payload = Buffer.alloc(30 * MiB, 0x64);
    for (let i = 0; i < 3; i++) {
      const body = Buffer.concat([Buffer.from('mm\0\0'), payload]);
      s.write(Buffer.concat([packetHeader(18, body.length), body]));
    }
    await waitFor(() => Buffer.concat(chunks).includes('QUEUE_ERROR'), 'the third submit to be refused', 60_000);
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text.match(/H:[^\0]+:\d+/g)).toHaveLength(2);
    expect(text).toContain(
      `QUEUE_ERROR\0Server memory budget full: jobs hold ${60 * MiB} of ${64 * MiB} bytes (maxMemory, gmr server --max-memory); a job of ${30 * MiB} bytes is refused`,
    );
    expect(await adminRaw(port, 'status')).toBe('mm\t2\t0\t0\n.\n');
    expect(rssBytes(pid) - before).toBeLessThan(3 * 64 * MiB);
  });
});
