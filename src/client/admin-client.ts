/**
 * gearmand's admin text protocol over one TCP connection (reference §2): commands are written
 * pipelined and answered in order; lists end with a `.` line; `OK\r\n` answers mutations and
 * `ERR <CODE> <text>\r\n` becomes a ServerError. The connection opens on the first command and
 * again after it was lost.
 */
import type net from 'node:net';
import { ClosedError, ConnectionError, ProtocolError, TimeoutError } from '../errors.ts';
import { PacketParser } from '../protocol/parser.ts';
import {
  parseErrLine,
  parseOkLine,
  parsePriorityStatusLines,
  parseShowJobsLines,
  parseShowUniqueJobsLines,
  parseStatusLines,
  parseWorkersLines,
  type FunctionStatus,
  type JobInfo,
  type PriorityStatus,
  type WorkerInfo,
} from '../protocol/admin-text.ts';
import { CONNECTION_DEFAULTS, explainConnectFailure } from '../connection/connection.ts';
import { formatAddress, isSocketPath, parseServerAddress } from '../connection/server-address.ts';
import { readPackets } from '../connection/socket-reader.ts';
import { openSocket, resolvePems, type TlsOptions } from '../connection/tls-options.ts';
import { DEFAULT_PORT } from '../protocol/limits.ts';
import { withDefaults } from '../defaults.ts';

export interface AdminClientOptions {
  /** `host:port`; or give host and port. Default 127.0.0.1:4730. */
  server?: string;
  host?: string;
  port?: number;
  connectTimeoutMs?: number;
  /** Per command; on expiry the connection is dropped, since later replies would be out of step. */
  timeoutMs?: number;
  /** Connect over TLS (`server: 'tls://host:port'` does too, with Node's defaults). */
  tls?: TlsOptions;
}

interface Pending {
  command: string;
  list: boolean;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULTS = { host: '127.0.0.1', port: DEFAULT_PORT, connectTimeoutMs: CONNECTION_DEFAULTS.connectTimeoutMs, timeoutMs: 10_000 };
const WORD = /^[^\s]+$/;

function word(what: string, value: string): string {
  if (typeof value !== 'string' || !WORD.test(value)) {
    throw new TypeError(`${what} must be one word without spaces or newlines, received ${JSON.stringify(value)}`);
  }
  return value;
}

function whole(what: string, value: number): number {
  if (!Number.isInteger(value)) throw new RangeError(`${what} must be an integer, received ${String(value)}`);
  return value;
}

export class AdminClient {
  readonly host: string;
  readonly port: number;
  readonly #options: typeof DEFAULTS;
  readonly #tls: TlsOptions | undefined;
  readonly #pending: Pending[] = [];
  #socket: net.Socket | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: AdminClientOptions = {}) {
    const address = options.server === undefined ? undefined : parseServerAddress(options.server);
    const { tls, ...rest } = options;
    this.#options = withDefaults(DEFAULTS, { ...rest, ...(address ? { host: address.host, port: address.port } : {}) });
    const roleTls = tls === undefined && address?.tls === undefined ? undefined : { ...tls, ...address?.tls };
    this.#tls = roleTls === undefined ? undefined : { ...roleTls, ...resolvePems(roleTls) };
    this.host = this.#options.host;
    this.port = this.#options.port;
    if (!isSocketPath(this.host) && (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535)) {
      throw new RangeError(`port must be 1-65535, received ${String(this.port)}`);
    }
    for (const name of ['connectTimeoutMs', 'timeoutMs'] as const) {
      const value = this.#options[name];
      if (!(Number.isFinite(value) && value > 0)) {
        throw new RangeError(`${name} must be a positive number, received ${value}`);
      }
    }
  }

  get address(): string {
    return `${this.#tls ? 'tls://' : ''}${formatAddress(this.host, this.port)}`;
  }

  async status(): Promise<FunctionStatus[]> {
    return parseStatusLines(await this.#command('status', true));
  }

  /** Every connection, clients and this admin connection included. */
  async workers(): Promise<WorkerInfo[]> {
    return parseWorkersLines(await this.#command('workers', true));
  }

  async priorityStatus(): Promise<PriorityStatus[]> {
    return parsePriorityStatusLines(await this.#command('prioritystatus', true));
  }

  async showJobs(): Promise<JobInfo[]> {
    return parseShowJobsLines(await this.#command('show jobs', true));
  }

  async showUniqueJobs(): Promise<string[]> {
    return parseShowUniqueJobsLines(await this.#command('show unique jobs', true));
  }

  /** `OK 1.1.20` from gearmand; the Perl Gearman::Server answers a bare `v1.130.1`. */
  async version(): Promise<string> {
    const [line = ''] = await this.#command('version', false);
    if (/^v?\d[\w.+~-]*$/.test(line)) return line;
    return parseOkLine(line);
  }

  async getpid(): Promise<number> {
    const text = await this.#ok('getpid');
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new ProtocolError(`getpid: expected "OK <pid>", received "OK ${text}"`);
    }
    return pid;
  }

  /** The server's log level name, e.g. `INFO`. */
  async verbose(): Promise<string> {
    return this.#ok('verbose');
  }

  /**
   * Caps queued + running jobs of `fn`: one number for every priority, or high, normal and low.
   * gearmand ignores this silently for a function it has not seen yet; 0 or less is unlimited.
   */
  async maxqueue(fn: string, high?: number, normal?: number, low?: number): Promise<void> {
    let command = `maxqueue ${word('fn', fn)}`;
    if (high !== undefined && normal === undefined && low === undefined) command += ` ${whole('high', high)}`;
    else if (high !== undefined && normal !== undefined && low !== undefined) {
      command += ` ${whole('high', high)} ${whole('normal', normal)} ${whole('low', low)}`;
    } else if (high !== undefined || normal !== undefined || low !== undefined) {
      throw new TypeError('maxqueue takes no limit, one limit for all priorities, or all three (high, normal, low)');
    }
    await this.#ok(command);
  }

  /** Fails the job for its attached clients and drops it; false if gearmand does not know it. */
  async cancelJob(handle: string): Promise<boolean> {
    try {
      await this.#ok(`cancel job ${word('handle', handle)}`);
      return true;
    } catch (error) {
      if (error instanceof Error && 'serverCode' in error && error.serverCode === 'UNKNOWN_JOB') return false;
      throw error;
    }
  }

  /** Creates `fn` whole (lines end in `\r\n`; with a bare `\n` gearmand 1.1.20 drops its last character). */
  async createFunction(fn: string): Promise<void> {
    await this.#ok(`create function ${word('fn', fn)}`);
  }

  /** ServerError when the function is unknown or still has workers or waiting clients. */
  async dropFunction(fn: string): Promise<void> {
    await this.#ok(`drop function ${word('fn', fn)}`);
  }

  /** Rejects unanswered commands with ClosedError and closes the socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#failAll(new ClosedError('AdminClient'));
      const socket = this.#socket;
      this.#socket = undefined;
      if (!socket || socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
    return this.#closing;
  }

  async #ok(command: string): Promise<string> {
    const [line] = await this.#command(command, false);
    return parseOkLine(line ?? '');
  }

  #command(command: string, list: boolean): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.#closing) return reject(new ClosedError('AdminClient'));
      const pending: Pending = { command, list, lines: [], resolve, reject, timer: undefined };
      pending.timer = setTimeout(() => {
        const error = new TimeoutError(
          `Admin command "${command}" got no answer from ${this.address} within ${this.#options.timeoutMs} ms`,
        );
        this.#socket?.destroy(error);
        this.#failAll(error);
      }, this.#options.timeoutMs);
      this.#pending.push(pending);
      // `\r\n` as gearadmin sends: gearmand 1.1.20 drops the last character of a line ended by a
      // bare `\n` (`create function viagmr` made `viagm`).
      this.#connect().write(`${command}\r\n`);
    });
  }

  #connect(): net.Socket {
    if (this.#socket) return this.#socket;
    const { socket, ready } = openSocket(this.host, this.port, this.#tls);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.connectTimeoutMs, () => {
      socket.destroy(new Error(`no answer within ${this.#options.connectTimeoutMs} ms`));
    });
    socket.once(ready, () => socket.setTimeout(0));
    const parser = new PacketParser({
      allowText: true,
      onText: (line) => this.#onLine(line),
      onPacket: (packet) => {
        throw new ProtocolError(`Admin connection received a binary ${packet.type} packet: expected text lines`);
      },
    });
    const reader = readPackets(socket, parser, this.#tls !== undefined);
    socket.on('error', () => {}); // 'close' follows and reports it
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      const cause = socket.errored ?? undefined;
      // A TLS server drops a plain peer's request without a word: say what that usually means.
      const why = cause ? `: ${explainConnectFailure(cause, this.#tls !== undefined)}` : !reader.received && !this.#tls && this.#pending.length > 0
        ? ' before any reply; if it is a TLS server, connect with TLS (tls://host:port, or --ssl)'
        : '';
      const message = `Admin connection to ${this.address} closed${why}`;
      this.#failAll(new ConnectionError(message, { cause }));
    });
    return socket;
  }

  #onLine(line: string): void {
    const head = this.#pending[0];
    if (!head) throw new ProtocolError(`Unexpected admin line ${JSON.stringify(line)}: no command is waiting`);
    if (head.list && line !== '.' && !(head.lines.length === 0 && line.startsWith('ERR '))) {
      head.lines.push(line);
      return;
    }
    this.#pending.shift();
    clearTimeout(head.timer);
    if (!head.list) head.resolve([line]);
    else if (line === '.') head.resolve(head.lines);
    else head.reject(parseErrLine(line) ?? new ProtocolError(`Bad admin line ${JSON.stringify(line)}`));
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
