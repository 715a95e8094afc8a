/**
 * One TCP connection to one job server, shared by Client and Worker: socket, packet parser,
 * writes (large payloads as their own chunk), and reconnection with jittered exponential backoff.
 *
 * Lifecycle events: `connect` (every time the socket is up, so owners re-send CAN_DO,
 * SET_CLIENT_ID and OPTION_REQ), `disconnect` (the socket was lost; owners fail over what was in
 * flight), `error` (a connect attempt failed; informational), `close` (closed for good by
 * `close()`). The parser's hot path is the plain `onPacket` callback, not an event.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { ClosedError, ConnectionError, type GearmanError } from '../errors.ts';
import { PacketParser } from '../protocol/parser.ts';
import type { Packet } from '../protocol/packets.ts';
import { encodePacketChunks } from '../protocol/serializer.ts';
import { formatAddress, type ServerAddress } from './server-address.ts';
import { readPackets } from './socket-reader.ts';
import { openSocket, resolvePems, type TlsOptions } from './tls-options.ts';

export interface ConnectionOptions extends ServerAddress {
  /** Called for every packet the server sends. */
  onPacket: (packet: Packet) => void;
  /** Reconnect after the socket is lost (default true). */
  reconnect?: boolean;
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs, with ±25% jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  connectTimeoutMs?: number;
  maxPacketSize?: number;
}

interface ConnectionEvents {
  connect: [];
  disconnect: [error: GearmanError];
  error: [error: GearmanError];
  close: [];
}

/** Reconnection and connect-timeout defaults, shared by every role that opens a Connection. */
export const CONNECTION_DEFAULTS = {
  reconnect: true,
  initialBackoffMs: 50,
  maxBackoffMs: 5000,
  connectTimeoutMs: 5000,
};

/** A connection that lived this long before it was lost reconnects at the initial backoff again. */
const RESET_BACKOFF_AFTER_MS = 2000;

/** OpenSSL's messages span lines and name C files; its `reason` alone reads as one line. */
export function oneLine(error: Error): string {
  const reason = (error as Error & { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  // A write that failed in TLS (EPROTO) carries OpenSSL's text without `reason`: its reason field.
  const openssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:\n]+)/.exec(error.message);
  if (openssl?.[1]) return openssl[1];
  return error.message.split('\n')[0]?.trim() ?? '';
}

/** A failed connect in one line, worded for the TLS case a plain server causes (the handshake breaks). */
export function explainConnectFailure(cause: Error, secure: boolean): string {
  if (!secure) return oneLine(cause);
  const code = (cause as Error & { code?: string }).code ?? '';
  const handshake = code.startsWith('ERR_SSL_') || code === 'ECONNRESET' || /TLS|SSL/.test(cause.message);
  if (!handshake || code.includes('CERT') || code.includes('SIGNATURE') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return oneLine(cause);
  }
  return `TLS handshake failed (is it a plain, non-TLS server?): ${oneLine(cause)}`;
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly host: string;
  readonly port: number;
  /** True when the connection speaks TLS. */
  readonly secure: boolean;
  readonly #options: Required<Omit<ConnectionOptions, 'maxPacketSize' | 'tls'>> & {
    maxPacketSize?: number;
    tls?: TlsOptions;
  };
  #socket: net.Socket | undefined;
  #connected = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstConnect: Promise<void> | undefined;
  #corked = false;

  constructor(options: ConnectionOptions) {
    super();
    // Files are read here, so a missing certificate is a UsageError from the constructor.
    const tls = options.tls === undefined ? undefined : { ...options.tls, ...resolvePems(options.tls) };
    this.#options = { ...CONNECTION_DEFAULTS, ...options, ...(tls === undefined ? {} : { tls }) };
    this.host = options.host;
    this.port = options.port;
    this.secure = options.tls !== undefined;
  }

  get address(): string {
    return `${this.secure ? 'tls://' : ''}${formatAddress(this.host, this.port)}`;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens the socket; resolves once connected, rejects if the first attempt fails. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`Connection to ${this.address}`));
    if (this.#connected) return Promise.resolve();
    this.#firstConnect ??= new Promise<void>((resolve, reject) => {
      this.#open(resolve, reject);
    });
    return this.#firstConnect;
  }

  /** Like connect(), but never rejects: keeps retrying in the background (worker style). */
  start(): void {
    if (this.#socket || this.#closed) return;
    this.#open(
      () => {},
      () => {},
    );
  }

  #open(resolve: () => void, reject: (error: Error) => void): void {
    if (this.#closed) return reject(new ClosedError(`Connection to ${this.address}`));
    const { socket, ready } = openSocket(this.host, this.port, this.#options.tls);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const parser = new PacketParser({
      onPacket: (packet) => this.#options.onPacket(packet),
      maxPacketSize: this.#options.maxPacketSize,
    });
    let settled = false;
    let connectedAt = 0;
    const connectTimer = setTimeout(() => {
      socket.destroy(new Error(`no answer within ${this.#options.connectTimeoutMs} ms`));
    }, this.#options.connectTimeoutMs);
    socket.once(ready, () => {
      clearTimeout(connectTimer);
      this.#connected = true;
      connectedAt = Date.now();
      settled = true;
      resolve();
      this.emit('connect');
    });
    const reader = readPackets(socket, parser, this.secure);
    socket.on('error', () => {
      // 'close' follows and handles it; the error is kept for the close handler.
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      const wasConnected = this.#connected;
      // The backoff starts over after a connection that answered or lasted; one the server drops
      // at once without a word (a TLS server meeting plain Gearman) keeps backing off.
      if (wasConnected && (reader.received || Date.now() - connectedAt >= RESET_BACKOFF_AFTER_MS)) this.#attempt = 0;
      this.#connected = false;
      this.#socket = undefined;
      const cause = (socket as net.Socket & { errored?: Error | null }).errored ?? undefined;
      const error = new ConnectionError(
        wasConnected
          ? `Lost connection to job server ${this.address}${this.#lostReason(cause, reader.received, socket.bytesWritten)}`
          : `Cannot connect to job server ${this.address}${cause ? `: ${this.#explain(cause)}` : ''}`,
        { cause },
      );
      if (wasConnected) this.emit('disconnect', error);
      else if (this.listenerCount('error') > 0) this.emit('error', error);
      if (!settled) {
        settled = true;
        reject(error);
        this.#firstConnect = undefined;
      }
      if (this.#closed) return;
      if (this.#options.reconnect) this.#scheduleReconnect();
    });
  }

  /**
   * Why a connection was lost. A plain connection the server closed after our first packets and
   * before any reply is what a TLS-only server does with them (Node's and gearmand's both), so
   * the message says so.
   */
  #lostReason(cause: Error | undefined, received: boolean, written: number): string {
    if (cause && cause.message !== 'socket hang up' && (cause as Error & { code?: string }).code !== 'ECONNRESET') {
      return `: ${oneLine(cause)}`;
    }
    if (!this.secure && !received && written > 0) {
      return ': closed before any reply; if it is a TLS server, connect with TLS (tls://host:port, or --ssl)';
    }
    if (this.secure && !received && written > 0 && !cause) {
      // TLS 1.3: the client's handshake ends before the server checks the client's certificate.
      return ': closed before any reply; if the server asks for a client certificate, give one (tls cert and key, or --ssl-certificate and --ssl-key)';
    }
    return cause ? `: ${oneLine(cause)}` : '';
  }

  #explain(cause: Error): string {
    return explainConnectFailure(cause, this.secure);
  }

  #scheduleReconnect(): void {
    const base = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** this.#attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.#attempt++;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed && !this.#socket) {
        this.#open(
          () => {},
          () => {},
        );
      }
    }, delay);
    this.#timer.unref?.();
  }

  /**
   * Packets written in one event-loop turn leave in one writev: the socket is corked at the first
   * write of a turn and uncorked on the next tick. A system call per packet was most of the
   * client's and worker's CPU time with many small jobs in flight.
   */
  #batch(socket: net.Socket): void {
    if (this.#corked) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  /** Writes a packet (REQ magic). Returns false when the connection is down (nothing was sent). */
  send(packet: Packet): boolean {
    const socket = this.#socket;
    if (!socket || !this.#connected) return false;
    this.#batch(socket);
    for (const chunk of encodePacketChunks(packet, 'REQ')) socket.write(chunk);
    return true;
  }

  /**
   * Hands this turn's batched packets to the socket now, not on the next tick: for code that
   * runs long without yielding (a synchronous map loop), whose progress would otherwise wait.
   */
  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket?.uncork();
  }

  /** Writes pre-encoded bytes (constant packets). */
  sendRaw(bytes: Buffer): boolean {
    const socket = this.#socket;
    if (!socket || !this.#connected) return false;
    this.#batch(socket);
    socket.write(bytes);
    return true;
  }

  /** True when the socket's write buffer is above its high-water mark. */
  get congested(): boolean {
    return this.#socket?.writableNeedDrain ?? false;
  }

  /** Waits for the socket's write buffer to drain. */
  drained(): Promise<void> {
    const socket = this.#socket;
    if (!socket || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  /** Drops the socket now (as if the network failed); reconnects if enabled. For tests and failover. */
  destroySocket(): void {
    this.#socket?.destroy();
  }

  /** Closes for good: no reconnect. Idempotent; resolves when the socket is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.#socket;
    if (socket) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
    this.emit('close');
  }
}
