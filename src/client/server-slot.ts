/**
 * One job server as a Client sees it: the Connection, the FIFO of requests waiting for their reply,
 * and the foreground jobs running there, by handle.
 *
 * Wire facts this relies on (gearmand 1.1.20, see the reference §1.1 and §3.3):
 * - gearmand answers one connection's requests in order, so a single FIFO matches JOB_CREATED to
 *   submits, STATUS_RES to GET_STATUS and so on; an ERROR answers whatever is at the head (a
 *   SUBMIT refused with QUEUE_ERROR consumes its entry like a JOB_CREATED would).
 * - WORK_* packets are unsolicited and keyed by handle. One connection that submits the same unique
 *   twice gets the same handle twice, and gearmand then attaches the connection twice: it sends
 *   every later WORK_* packet once per attachment, back to back (verified against 1.1.20). So a
 *   handle maps to its jobs in attachment order, and each copy goes to the next job in rotation:
 *   every job sees each packet once. A job abandoned locally (timeout, abort) keeps its place in
 *   the rotation and swallows its copies, since the server still sends them.
 * - WORK_FAIL's handle may carry a stray trailing NUL (1.1.20 when it converts an exception).
 */
import { ClosedError, ConnectionError, ServerError, type GearmanError } from '../errors.ts';
import type { Packet, PacketType } from '../protocol/packets.ts';
import { Connection } from '../connection/connection.ts';
import type { ServerAddress } from '../connection/server-address.ts';

/** A submitted job as the slot needs it; implemented by the Client's job record. */
export interface SlotJob {
  readonly foreground: boolean;
  /** False once the job was settled or abandoned (timeout, abort, close): replies are dropped. */
  readonly live: boolean;
  created(slot: ServerSlot, handle: string): void;
  /** The server answered the submit with ERROR. */
  refused(error: ServerError): void;
  status(numerator: number, denominator: number): void;
  data(chunk: Buffer): void;
  warning(chunk: Buffer): void;
  complete(result: Buffer): void;
  fail(handle: string): void;
  exception(handle: string, text: Buffer): void;
}

/** The jobs sharing one handle on this connection, and whose turn the next WORK_* copy is. */
interface Attached {
  jobs: SlotJob[];
  next: number;
}

type Reply =
  | { kind: 'submit'; job: SlotJob }
  | { kind: 'request'; expect: PacketType; resolve: (packet: Packet) => void; reject: (error: Error) => void };

export type SlotState = 'pending' | 'up' | 'down';

export interface ServerSlotHooks {
  /** The slot became up or down. */
  stateChanged(slot: ServerSlot): void;
  /** The connection was lost; these jobs were submitted or running there. */
  lost(slot: ServerSlot, error: GearmanError, jobs: SlotJob[]): void;
  /** Something the server sent that nothing was waiting for. */
  error(error: Error): void;
}

export interface ServerSlotOptions {
  address: ServerAddress;
  clientId: string | undefined;
  connectTimeoutMs: number | undefined;
  maxPacketSize: number | undefined;
  hooks: ServerSlotHooks;
}

const TRAILING_NULS = /\0+$/;

export class ServerSlot {
  readonly address: string;
  readonly connection: Connection;
  state: SlotState = 'pending';
  lastError: Error | undefined;
  readonly #hooks: ServerSlotHooks;
  readonly #clientId: string | undefined;
  readonly #replies: Reply[] = [];
  readonly #running = new Map<string, Attached>();
  #started = false;
  /** After close() the socket may still deliver replies to what was cleared: ignore them. */
  #closed = false;

  constructor(options: ServerSlotOptions) {
    this.#hooks = options.hooks;
    this.#clientId = options.clientId;
    this.connection = new Connection({
      ...options.address,
      onPacket: (packet) => this.#onPacket(packet),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.maxPacketSize === undefined ? {} : { maxPacketSize: options.maxPacketSize }),
    });
    this.address = this.connection.address;
    this.connection.on('connect', () => this.#onConnect());
    this.connection.on('error', (error) => this.#setDown(error));
    this.connection.on('disconnect', (error) => this.#onDisconnect(error));
  }

  /** Opens the connection once; it then reconnects on its own with jittered backoff. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.connection.start();
  }

  /** Writes a submit and queues it for its JOB_CREATED. False if the connection is down. */
  submit(job: SlotJob, packet: Packet): boolean {
    if (this.state !== 'up' || !this.connection.send(packet)) return false;
    this.#replies.push({ kind: 'submit', job });
    return true;
  }

  /** Sends a request and resolves with its reply packet (of type `expect`). */
  request(packet: Packet, expect: PacketType): Promise<Packet> {
    return new Promise((resolve, reject) => {
      if (this.state !== 'up' || !this.connection.send(packet)) {
        reject(new ConnectionError(`Job server ${this.address} is not connected${this.#why()}`));
        return;
      }
      this.#replies.push({ kind: 'request', expect, resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#rejectRequests(new ClosedError('Client'));
    this.#replies.length = 0;
    this.#running.clear();
    await this.connection.close();
  }

  #why(): string {
    return this.lastError ? ` (${this.lastError.message})` : '';
  }

  #onConnect(): void {
    // Every (re)connect is a new server-side connection: the exceptions option is per connection
    // and cannot be turned off, and without it WORK_EXCEPTION arrives as WORK_FAIL (§3.9).
    this.#replies.push({
      kind: 'request',
      expect: 'OPTION_RES',
      resolve: () => {},
      reject: (error) => this.#hooks.error(error),
    });
    this.connection.send({ type: 'OPTION_REQ', option: 'exceptions' });
    if (this.#clientId !== undefined) this.connection.send({ type: 'SET_CLIENT_ID', id: this.#clientId });
    this.state = 'up';
    this.lastError = undefined;
    this.#hooks.stateChanged(this);
  }

  #setDown(error: Error): void {
    this.state = 'down';
    this.lastError = error;
    this.#hooks.stateChanged(this);
  }

  #onDisconnect(error: GearmanError): void {
    const jobs: SlotJob[] = [];
    for (const reply of this.#replies) if (reply.kind === 'submit' && reply.job.live) jobs.push(reply.job);
    for (const attached of this.#running.values()) for (const job of attached.jobs) if (job.live) jobs.push(job);
    this.#rejectRequests(error);
    this.#replies.length = 0;
    this.#running.clear();
    this.state = 'down';
    this.lastError = error;
    this.#hooks.lost(this, error, jobs);
    this.#hooks.stateChanged(this);
  }

  #rejectRequests(error: Error): void {
    for (const reply of this.#replies) if (reply.kind === 'request') reply.reject(error);
  }

  #unexpected(packet: Packet): void {
    const head = this.#replies[0];
    const waiting =
      head === undefined ? 'nothing' : head.kind === 'submit' ? 'JOB_CREATED' : head.expect;
    this.#hooks.error(
      new ConnectionError(
        `Unexpected ${packet.type} from job server ${this.address}: expected ${waiting}` +
          (head === undefined ? ' (no request is waiting for a reply)' : ''),
      ),
    );
  }

  #onPacket(packet: Packet): void {
    if (this.#closed) return;
    switch (packet.type) {
      case 'JOB_CREATED': {
        const head = this.#replies[0];
        if (head?.kind !== 'submit') return this.#unexpected(packet);
        this.#replies.shift();
        if (!head.job.live) return;
        if (head.job.foreground) {
          const attached = this.#running.get(packet.handle);
          if (attached) attached.jobs.push(head.job);
          else this.#running.set(packet.handle, { jobs: [head.job], next: 0 });
        }
        head.job.created(this, packet.handle);
        return;
      }
      case 'ERROR': {
        const head = this.#replies.shift();
        const error = serverError(this.address, packet.code, packet.text, head?.kind === 'request' ? head.expect : undefined);
        if (head === undefined) return this.#hooks.error(error);
        if (head.kind === 'submit') {
          if (head.job.live) head.job.refused(error);
        } else head.reject(error);
        return;
      }
      case 'STATUS_RES':
      case 'STATUS_RES_UNIQUE':
      case 'ECHO_RES':
      case 'OPTION_RES': {
        const head = this.#replies[0];
        if (head?.kind !== 'request' || head.expect !== packet.type) return this.#unexpected(packet);
        this.#replies.shift();
        head.resolve(packet);
        return;
      }
      case 'WORK_STATUS':
        this.#turn(packet.handle, false)?.status(Number(packet.numerator), Number(packet.denominator));
        return;
      case 'WORK_DATA':
        this.#turn(packet.handle, false)?.data(packet.data);
        return;
      case 'WORK_WARNING':
        this.#turn(packet.handle, false)?.warning(packet.data);
        return;
      case 'WORK_COMPLETE':
        this.#turn(packet.handle, true)?.complete(packet.data);
        return;
      case 'WORK_FAIL': {
        const handle = packet.handle.replace(TRAILING_NULS, '');
        this.#turn(handle, true)?.fail(handle);
        return;
      }
      case 'WORK_EXCEPTION':
        this.#turn(packet.handle, true)?.exception(packet.handle, packet.data);
        return;
      case 'NOOP':
      case 'NO_JOB':
      case 'JOB_ASSIGN':
      case 'JOB_ASSIGN_UNIQ':
      case 'JOB_ASSIGN_ALL':
      case 'CAN_DO':
      case 'CANT_DO':
      case 'RESET_ABILITIES':
      case 'PRE_SLEEP':
      case 'UNUSED':
      case 'SUBMIT_JOB':
      case 'GRAB_JOB':
      case 'GET_STATUS':
      case 'ECHO_REQ':
      case 'SUBMIT_JOB_BG':
      case 'SUBMIT_JOB_HIGH':
      case 'SET_CLIENT_ID':
      case 'CAN_DO_TIMEOUT':
      case 'ALL_YOURS':
      case 'OPTION_REQ':
      case 'GRAB_JOB_UNIQ':
      case 'SUBMIT_JOB_HIGH_BG':
      case 'SUBMIT_JOB_LOW':
      case 'SUBMIT_JOB_LOW_BG':
      case 'SUBMIT_JOB_SCHED':
      case 'SUBMIT_JOB_EPOCH':
      case 'SUBMIT_REDUCE_JOB':
      case 'SUBMIT_REDUCE_JOB_BACKGROUND':
      case 'GRAB_JOB_ALL':
      case 'GET_STATUS_UNIQUE':
        return this.#unexpected(packet);
      default: {
        const exhaustive: never = packet;
        return exhaustive;
      }
    }
  }

  /**
   * The job whose turn this copy of a WORK_* packet is (see the header); a final packet also ends
   * that job's attachment. Undefined for handles no job here is attached to.
   */
  #turn(handle: string, final: boolean): SlotJob | undefined {
    const attached = this.#running.get(handle);
    if (!attached) return undefined;
    const job = attached.jobs[attached.next];
    if (final) {
      attached.jobs.splice(attached.next, 1);
      if (attached.jobs.length === 0) this.#running.delete(handle);
    } else attached.next++;
    if (attached.next >= attached.jobs.length) attached.next = 0;
    return job?.live ? job : undefined;
  }
}

/**
 * An ERROR as a ServerError. The Perl Gearman::Server answers a packet type it lacks with
 * `server_error` "Can't locate object method "CMD_submit_job_low" …" (an empty name for types it
 * has no name for); that becomes UNKNOWN_COMMAND naming what it lacks.
 */
function serverError(address: string, code: string, text: string, expected: PacketType | undefined): ServerError {
  const missing = code === 'server_error' ? /Can't locate object method "CMD_(\w*)"/.exec(text) : null;
  if (!missing) return new ServerError(code, text);
  const name = missing[1] ? missing[1].toUpperCase() : expected === 'STATUS_RES_UNIQUE' ? 'GET_STATUS_UNIQUE' : 'this packet type';
  return new ServerError('UNKNOWN_COMMAND', `${address} does not support ${name} (an older server such as the Perl Gearman::Server: use NORMAL or HIGH foreground, or NORMAL background jobs there)`);
}
