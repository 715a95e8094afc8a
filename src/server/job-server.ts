/**
 * JobServer: an embedded, gearmand-compatible job server (gearmand 1.1.20's binary protocol and
 * admin text protocol on one port, with 2.0's fixes). See docs/SERVER.md for what differs.
 *
 *   const server = await JobServer.listen({ port: 0 });
 *   // … clients and workers connect to server.address …
 *   await server.close();
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { oneLine } from '../connection/connection.ts';
import { resolvePems, type PemSource } from '../connection/tls-options.ts';
import { ConnectionError, UsageError } from '../errors.ts';
import { DEFAULT_PORT, DEFAULT_SERVER_MAX_PACKET_SIZE } from '../protocol/index.ts';
import type { AdminContext } from './admin-commands.ts';
import { JobBroker } from './job-broker.ts';
import { SqliteQueue } from './queue/sqlite-queue.ts';
import { backgroundJobs, restoreJobs } from './queue/stored-jobs.ts';
import { ServerConnection, type ConnectionContext } from './server-connection.ts';
import { WriteBatch } from './write-batch.ts';

export interface JobServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 4730; 0 picks a free port. */
  port?: number;
  /**
   * Listen on this Unix socket instead of TCP (host and port are ignored). Who may connect is
   * decided by the permissions of the socket's folder: gmr run puts it in a folder only its user can enter.
   */
  path?: string;
  /** 0 (default, as gearmand 1.1.x): requeue forever; N: N attempts in total, then WORK_FAIL. */
  jobRetries?: number;
  /**
   * Largest declared packet data size accepted (default 128 MiB, DEFAULT_SERVER_MAX_PACKET_SIZE);
   * bigger packets get an ERROR and the peer is closed.
   */
  maxPacketSize?: number;
  /**
   * Payload bytes the queued, scheduled and running jobs may hold together (default 0: no limit).
   * A submit that would pass it gets `ERROR QUEUE_ERROR` naming the budget.
   */
  maxMemory?: number;
  /** Default `H:${os.hostname()}`; handles are `${prefix}:${n}`. */
  jobHandlePrefix?: string;
  /**
   * Obey the admin `shutdown [graceful]` command (default false: it is answered with
   * `ERR SHUTDOWN_DISABLED`, since anyone who can connect could send it).
   */
  allowShutdown?: boolean;
  /** Connection and error log lines; default none. */
  logger?: (line: string) => void;
  /** Listen for TLS only (as gearmand --ssl): plain peers are refused at the handshake. */
  tls?: JobServerTlsOptions;
  /** Keep background jobs in a file across restarts (gearmand's -q libsqlite3); default in memory only. */
  queue?: JobServerQueueOptions;
}

export interface JobServerQueueOptions {
  /** gearmand's libsqlite3 queue: the same table, so either server replays the other's file. */
  type: 'libsqlite3';
  /** --libsqlite3-db: created if missing. */
  file: string;
  /** --libsqlite3-table (default gearman_queue). */
  table?: string;
  /** --store-queue-on-shutdown: write the queue only at close (a kill loses it), replay and empty it at start. */
  storeOnShutdown?: boolean;
}

export interface JobServerTlsOptions {
  /** The server's certificate and its key (file paths, PEM text or bytes). */
  cert: PemSource;
  key: PemSource;
  /** CA that client certificates must chain to (with requestCert). */
  ca?: PemSource;
  /** Ask every peer for a certificate signed by `ca`, and refuse peers without one (default false). */
  requestCert?: boolean;
}

export interface JobServerEvents {
  /** The admin `shutdown` command was received; close() follows. */
  shutdown: [graceful: boolean];
  /** close() finished: no socket or timer is left. */
  close: [];
}

/** How long close() lets peers take the last bytes before their sockets are destroyed. */
const CLOSE_GRACE_MS = 2000;

function createTlsServer(options: JobServerTlsOptions): tls.Server {
  const requestCert = options.requestCert === true;
  if (requestCert && options.ca === undefined) {
    throw new UsageError('JobServer option tls.requestCert needs tls.ca: the CA client certificates must chain to');
  }
  return tls.createServer({
    ...resolvePems(options),
    requestCert,
    rejectUnauthorized: requestCert,
  });
}

async function openQueue(options: JobServerOptions): Promise<SqliteQueue | undefined> {
  const queue = options.queue;
  if (queue === undefined) return undefined;
  if (queue.type !== 'libsqlite3') throw new UsageError(`JobServer option queue.type must be 'libsqlite3', received ${JSON.stringify(queue.type)}`);
  return SqliteQueue.open({
    file: queue.file,
    ...(queue.table === undefined ? {} : { table: queue.table }),
    storeOnShutdown: queue.storeOnShutdown === true,
    ...(options.logger ? { log: options.logger } : {}),
  });
}

function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`JobServer option ${name} must be a whole number from ${min} to ${max}, received ${value}`);
  }
}

export class JobServer extends EventEmitter<JobServerEvents> {
  readonly host: string;
  readonly port: number;
  /** `host:port`, for --servers lists. */
  readonly address: string;
  readonly #server: net.Server;
  readonly #broker: JobBroker;
  readonly #batch: WriteBatch;
  readonly #connections = new Set<ServerConnection>();
  readonly #context: ConnectionContext;
  readonly #log: (line: string) => void;
  readonly #queue: SqliteQueue | undefined;
  #nextId = 0;
  #closing: Promise<void> | undefined;

  private constructor(server: net.Server, host: string, port: number, options: JobServerOptions, queue: SqliteQueue | undefined) {
    super();
    this.#queue = queue;
    this.#server = server;
    this.host = host;
    this.port = port;
    // A Unix socket's address is its path (client/connection.ts reads it back the same way).
    this.address = host.startsWith('/') ? host : `${options.tls ? 'tls://' : ''}${host}:${port}`;
    const logger = options.logger;
    this.#log = (line) => {
      if (!logger) return;
      try {
        logger(line);
      } catch {
        // a logger that throws must not take the server down
      }
    };
    this.#batch = new WriteBatch(queue && (() => this.#broker.store?.flush()));
    this.#broker = new JobBroker({
      jobHandlePrefix: options.jobHandlePrefix ?? `H:${os.hostname()}`,
      jobRetries: options.jobRetries ?? 0,
      maxMemory: options.maxMemory ?? 0,
      flush: () => this.#batch.flush(),
      log: this.#log,
      ...(queue ? { queue, scheduleCommit: () => this.#batch.schedule() } : {}),
    });
    if (queue) {
      restoreJobs(this.#broker, queue.replay());
      queue.replayed();
    }
    const admin: AdminContext = {
      broker: this.#broker.admin,
      verbose: logger !== undefined,
      allowShutdown: options.allowShutdown === true,
      shutdown: (graceful) => queueMicrotask(() => this.#shutdown(graceful)),
    };
    this.#context = {
      broker: this.#broker,
      batch: this.#batch,
      admin,
      maxPacketSize: options.maxPacketSize ?? DEFAULT_SERVER_MAX_PACKET_SIZE,
      log: this.#log,
      onClose: (conn) => this.#connections.delete(conn),
    };
    if (options.tls) {
      server.on('secureConnection', (socket: net.Socket) => this.#accept(socket));
      server.on('tlsClientError', (error: Error, socket: net.Socket) => {
        this.#log(`TLS handshake from ${socket.remoteAddress ?? '?'} failed (a plain client?): ${oneLine(error)}`);
      });
    } else {
      server.on('connection', (socket) => this.#accept(socket));
    }
    server.on('error', (error) => this.#log(`server error: ${error.message}`));
  }

  static async listen(options: JobServerOptions = {}): Promise<JobServer> {
    checkInteger('port', options.port, 0, 65535);
    checkInteger('jobRetries', options.jobRetries, 0, 2 ** 31 - 1);
    checkInteger('maxPacketSize', options.maxPacketSize, 1, 2 ** 32 - 1);
    checkInteger('maxMemory', options.maxMemory, 0, Number.MAX_SAFE_INTEGER);
    const host = options.path ?? options.host ?? '127.0.0.1';
    const wanted = options.path === undefined ? (options.port ?? DEFAULT_PORT) : 0;
    const queue = await openQueue(options);
    try {
      return await JobServer.#listen(options, host, wanted, queue);
    } catch (error) {
      queue?.close();
      throw error;
    }
  }

  static async #listen(options: JobServerOptions, host: string, wanted: number, queue: SqliteQueue | undefined): Promise<JobServer> {
    const server = options.tls === undefined ? net.createServer() : createTlsServer(options.tls);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new ConnectionError(`Cannot listen on ${options.path ?? `${host}:${wanted}`}: ${error.message}`, { cause: error }));
      };
      server.once('error', onError);
      const listening = (): void => {
        server.off('error', onError);
        resolve();
      };
      if (options.path === undefined) server.listen(wanted, host, listening);
      else server.listen(options.path, listening);
    });
    const bound = server.address();
    const port = bound !== null && typeof bound === 'object' ? bound.port : wanted;
    try {
      return new JobServer(server, host, port, options, queue);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(++this.#nextId, socket, this.#context);
    this.#connections.add(conn);
    this.#log(`connection #${conn.id} from ${conn.remoteAddress}:${socket.remotePort ?? '?'}`);
  }

  /**
   * Admin `shutdown`: now, or (graceful, as the Perl Gearman::Server) stop listening and close once
   * no job is queued or running; connected workers keep taking jobs and clients keep submitting.
   */
  #shutdown(graceful: boolean): void {
    if (this.#closing) return;
    this.#log(`shutdown${graceful ? ' graceful' : ''} requested`);
    this.emit('shutdown', graceful);
    if (!graceful || this.#broker.outstanding === 0) {
      void this.close();
      return;
    }
    this.#server.close();
    this.#broker.onIdle = () => void this.close();
  }

  /**
   * Stops listening, sends WORK_FAIL to every foreground client whose job is queued or running,
   * then closes every socket. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** At close: commits (or, with storeOnShutdown, writes) the queue and closes it; the file when it holds the jobs. */
  #keepQueue(): string | undefined {
    const queue = this.#queue;
    if (!queue) return undefined;
    try {
      if (queue.storeOnShutdown) queue.save(backgroundJobs(this.#broker.jobs.values()));
      this.#batch.flush();
      queue.close();
      return queue.file;
    } catch (error) {
      this.#log(`cannot keep the queue in ${queue.file}: ${oneLine(error as Error)}`);
      return undefined;
    }
  }

  async #close(): Promise<void> {
    const broker = this.#broker;
    broker.draining = true;
    broker.onIdle = undefined;
    const listening = new Promise<void>((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
    });
    const queue = this.#queue;
    const kept = this.#keepQueue();
    const lost = broker.failAll();
    if (lost > 0) this.#log(`closing with ${lost} background job(s) not run${kept ? `, kept in ${kept}` : ''}`);
    this.#batch.flush();
    const connections = [...this.#connections];
    const closed = connections.map(
      (conn) => new Promise<void>((resolve) => (conn.closed || conn.socket.destroyed ? resolve() : conn.socket.once('close', () => resolve()))),
    );
    for (const conn of connections) conn.end();
    const force = setTimeout(() => {
      for (const conn of connections) conn.socket.destroy();
    }, CLOSE_GRACE_MS);
    try {
      await Promise.all(closed);
      await listening;
    } finally {
      clearTimeout(force);
    }
    this.#log('closed');
    this.emit('close');
  }
}
