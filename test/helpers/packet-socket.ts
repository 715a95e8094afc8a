/**
 * A raw Gearman peer for server tests: sends packets, raw bytes or admin lines, and hands back the
 * packets it receives in arrival order. `barrier()` is an ECHO round trip: a server answers in
 * order, so every reply to what was sent before it has arrived when it resolves.
 */
import net from 'node:net';
import { PacketParser, encodePacket, type Packet, type PacketType } from '../../src/protocol/index.ts';

export type Received<T extends PacketType = PacketType> = Extract<Packet, { type: T }>;

export class PacketSocket {
  readonly socket: net.Socket;
  readonly received: Packet[] = [];
  /** Set when the server sent something that is not a valid response packet. */
  parseError: Error | undefined;
  readonly closed: Promise<void>;
  #waiters: Array<() => void> = [];
  #read = 0;
  #echo = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const parser = new PacketParser({
      onPacket: (packet) => {
        this.received.push(packet);
        this.#notify();
      },
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (error) {
        this.parseError = error as Error;
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        this.#notify();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<PacketSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new PacketSocket(socket));
      });
    });
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(...packets: Packet[]): void {
    for (const packet of packets) this.socket.write(encodePacket(packet, 'REQ'));
  }

  sendRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** The next unread packet, waiting for it if needed. */
  async next(limitMs = 20_000): Promise<Packet> {
    const deadline = Date.now() + limitMs;
    while (this.#read >= this.received.length) {
      if (this.socket.destroyed) throw new Error(`connection closed while waiting for a packet; received ${this.#describe()}`);
      if (Date.now() > deadline) throw new Error(`no packet after ${limitMs} ms; received ${this.#describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.#read++] as Packet;
  }

  /** The next unread packet, which must be of this type. */
  async expect<T extends PacketType>(type: T): Promise<Received<T>> {
    const packet = await this.next();
    if (packet.type !== type) throw new Error(`expected ${type}, received ${JSON.stringify(show(packet))}`);
    return packet as Received<T>;
  }

  /** Every unread packet after an ECHO round trip (the ECHO_RES itself is consumed). */
  async drain(): Promise<Packet[]> {
    const token = Buffer.from(`barrier-${++this.#echo}`);
    this.send({ type: 'ECHO_REQ', data: token });
    const out: Packet[] = [];
    for (;;) {
      const packet = await this.next();
      if (packet.type === 'ECHO_RES' && packet.data.equals(token)) return out;
      out.push(packet);
    }
  }

  #describe(): string {
    return JSON.stringify(this.received.map(show));
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

/** A packet as plain JSON-friendly values (Buffers as strings), for assertions and messages. */
export function show(packet: Packet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(packet)) out[key] = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
  return out;
}

/** Sends one admin line on a fresh socket; returns the raw reply (through `.\n` for lists). */
export function adminRaw(port: number, line: string, host = '127.0.0.1'): Promise<string> {
  const word = line.trim().split(/ +/)[0]?.toLowerCase() ?? '';
  const sub = line.trim().split(/ +/)[1]?.toLowerCase();
  const isList = ['status', 'workers', 'prioritystatus'].includes(word) || (word === 'show' && sub !== undefined);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    let text = '';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${line}\n`));
    const finish = (): void => {
      socket.destroy();
      resolve(text);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.startsWith('ERR ') && text.endsWith('\n')) return finish();
      if (isList ? text === '.\n' || text.endsWith('\n.\n') : text.endsWith('\n')) finish();
    });
    socket.on('close', () => resolve(text));
  });
}
