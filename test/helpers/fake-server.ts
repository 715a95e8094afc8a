/**
 * A scripted stand-in for gearmand, for server behaviour a real gearmand will not produce on
 * demand (a stray JOB_CREATED, WORK_FAIL with a trailing NUL to a client that asked for
 * exceptions). It parses what the client sends and lets the test answer with raw packets.
 */
import net from 'node:net';
import { PacketParser } from '../../src/protocol/parser.ts';
import type { Packet } from '../../src/protocol/packets.ts';
import { encodePacket } from '../../src/protocol/serializer.ts';
import { packetHeader } from '../fixtures/packets.ts';

export interface FakeConnection {
  send(packet: Packet): void;
  /** Raw bytes, for packets our encoder would not produce. */
  sendRaw(bytes: Buffer): void;
  destroy(): void;
}

export class FakeServer {
  readonly received: Packet[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(onPacket: (packet: Packet, conn: FakeConnection) => void) {
    this.#server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      const conn: FakeConnection = {
        send: (packet) => socket.write(encodePacket(packet, 'RES')),
        sendRaw: (bytes) => socket.write(bytes),
        destroy: () => socket.destroy(),
      };
      const parser = new PacketParser({
        onPacket: (packet) => {
          this.received.push(packet);
          onPacket(packet, conn);
        },
      });
      socket.on('data', (chunk: Buffer) => parser.push(chunk));
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address && typeof address === 'object') this.port = address.port;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A RES packet with arbitrary body bytes (type code and data as given). */
export function rawResponse(code: number, body: Buffer): Buffer {
  return Buffer.concat([packetHeader(code, body.length, 'RES'), body]);
}
