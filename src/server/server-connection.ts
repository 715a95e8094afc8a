/**
 * One peer of the embedded server: a client, a worker, an admin session, or all three at once
 * ("A connection may be client and worker at once"; binary and text may be mixed on one socket).
 *
 * Replies are written straight to the socket, corked until the WriteBatch flushes at the end of
 * the event-loop turn, so a burst of pipelined packets leaves as one writev per peer instead of a
 * syscall per packet.
 */
import type net from 'node:net';
import { ProtocolError } from '../errors.ts';
import { CONSTANT_PACKETS, OUTPUT_HIGH_WATER_BYTES, PACKETS, PacketParser, encodePacket, type Magic, type Packet } from '../protocol/index.ts';
import { runAdminCommand, type AdminContext } from './admin-commands.ts';
import type { JobBroker } from './job-broker.ts';
import { Outbox } from './outbox.ts';
import type { Peer } from './peer.ts';
import type { Session } from './records.ts';
import { statusReply, statusUniqueReply } from './status-replies.ts';
import { OWNED_PAYLOAD_BYTES } from './submit.ts';
import type { Flushable, WriteBatch } from './write-batch.ts';

export interface ConnectionContext {
  readonly broker: JobBroker;
  readonly batch: WriteBatch;
  readonly admin: AdminContext;
  readonly maxPacketSize: number;
  readonly log: (line: string) => void;
  readonly onClose: (conn: ServerConnection) => void;
}

const WORK_COMPLETE = PACKETS.WORK_COMPLETE.code;

/** Output of a turn up to this size, in a few chunks, is joined into one Buffer for one write. */
const CONCAT_MAX_BYTES = 64 * 1024;
const CONCAT_MAX_CHUNKS = 4;

function totalLength(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const chunk of chunks) n += chunk.length;
  return n;
}

/** gearmand's ERROR code for what our parser rejected. */
function errorFor(error: ProtocolError): [code: string, text: string] | undefined {
  switch (error.fault) {
    case 'magic':
      return ['INVALID_MAGIC', 'Request magic expected'];
    case 'type':
      return ['INVALID_COMMAND', 'Command not expected'];
    case 'size':
      return ['ARGUMENT_TOO_LARGE', error.message];
    case 'text':
      return undefined;
    case 'arguments':
    case 'other':
      return ['INVALID_PACKET', error.message];
    default: {
      const unexpected: never = error.fault;
      return ['INVALID_PACKET', String(unexpected)];
    }
  }
}

export class ServerConnection implements Peer, Flushable {
  readonly id: number;
  readonly remoteAddress: string;
  readonly socket: net.Socket;
  exceptions = false;
  clientId = '-';
  closed = false;
  readonly #session: Session;
  readonly #ctx: ConnectionContext;
  readonly #parser: PacketParser;
  readonly #outbox = new Outbox();
  #queued = false;
  /** Reading stopped because unsent output passed OUTPUT_HIGH_WATER_BYTES. */
  #paused = false;

  constructor(id: number, socket: net.Socket, ctx: ConnectionContext) {
    this.id = id;
    this.socket = socket;
    this.#ctx = ctx;
    this.remoteAddress = (socket.remoteAddress ?? '-').replace(/^::ffff:/, '');
    this.#session = ctx.broker.open(this);
    this.#parser = new PacketParser({
      onPacket: (packet, magic) => this.#onPacket(packet, magic),
      // A WORK_COMPLETE is forwarded from its bytes when it can be (JobBroker.completeFrom).
      onFrame: (code, magic, buf, from, to) => code === WORK_COMPLETE && magic === 'REQ' && ctx.broker.completeFrom(this.#session, buf, from, to),
      // Submits' payloads are kept: small ones come as copies, not views of the chunk (ownPayload).
      copyPayloadsUpTo: OWNED_PAYLOAD_BYTES,
      allowText: true,
      onText: (line) => this.sendText(runAdminCommand(line, ctx.admin)),
      maxPacketSize: ctx.maxPacketSize,
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => ctx.log(`connection ${this.#name()}: ${error.message}`));
    socket.on('close', () => this.#onClose());
  }

  #name(): string {
    return `#${this.id} ${this.remoteAddress}:${this.socket.remotePort ?? '?'}`;
  }

  #onData(chunk: Buffer): void {
    try {
      this.#parser.push(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) this.#protocolError(error);
      else {
        this.#ctx.log(`connection ${this.#name()}: internal error, closing: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.end();
      }
    }
  }

  /** A malformed packet ends this connection alone, after an ERROR saying why. */
  #protocolError(error: ProtocolError): void {
    this.#ctx.log(`connection ${this.#name()}: ${error.message}; closing`);
    const reply = errorFor(error);
    if (reply) this.sendError(reply[0], reply[1]);
    this.end();
  }

  #onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.#ctx.log(`connection ${this.#name()} closed`);
    // Buffers go now, not when the last reference to this object does.
    this.#parser.release();
    this.#outbox.take();
    this.#ctx.broker.disconnect(this.#session);
    this.#ctx.onClose(this);
  }

  #onPacket(p: Packet, magic: Magic): void {
    if (magic !== 'REQ') return this.sendError('INVALID_MAGIC', 'Request magic expected');
    const broker = this.#ctx.broker;
    const session = this.#session;
    // The packets of every job first: a switch on strings is a chain of comparisons, in this order.
    switch (p.type) {
      case 'SUBMIT_JOB':
      case 'SUBMIT_JOB_BG':
      case 'SUBMIT_JOB_HIGH':
      case 'SUBMIT_JOB_HIGH_BG':
      case 'SUBMIT_JOB_LOW':
      case 'SUBMIT_JOB_LOW_BG':
      case 'SUBMIT_JOB_EPOCH':
      case 'SUBMIT_REDUCE_JOB':
      case 'SUBMIT_REDUCE_JOB_BACKGROUND':
        return broker.submit(session, p);
      case 'GRAB_JOB':
      case 'GRAB_JOB_UNIQ':
      case 'GRAB_JOB_ALL':
        return broker.grab(session, p.type);
      case 'WORK_COMPLETE':
      case 'WORK_DATA':
      case 'WORK_STATUS':
      case 'WORK_WARNING':
      case 'WORK_FAIL':
      case 'WORK_EXCEPTION':
        return broker.work(session, p);
      case 'PRE_SLEEP':
        return broker.registry.preSleep(session);
      case 'CAN_DO':
        return broker.registry.canDo(session, p.fn);
      case 'CAN_DO_TIMEOUT': {
        const ms = Number.parseInt(p.timeout, 10);
        return broker.registry.canDo(session, p.fn, Number.isFinite(ms) && ms > 0 ? ms : 0);
      }
      case 'CANT_DO':
        return broker.registry.cantDo(session, p.fn);
      case 'RESET_ABILITIES':
        return broker.registry.reset(session);
      case 'GET_STATUS':
        return statusReply(broker.jobs, session, p.handle);
      case 'GET_STATUS_UNIQUE':
        return statusUniqueReply(broker.functions, session, p.unique);
      case 'ECHO_REQ':
        return this.send(PACKETS.ECHO_RES.code, p.data);
      case 'SET_CLIENT_ID':
        // Printed in `workers` lines: a control character would forge rows, so it shows as `?`.
        this.clientId = p.id === '' ? '-' : p.id.slice(0, 127).replace(/[\u0000-\u001f\u007f]/g, '?');
        return;
      case 'OPTION_REQ':
        if (p.option.toLowerCase() !== 'exceptions') {
          return this.sendError('UNKNOWN_OPTION', 'Server does not recognize given option');
        }
        this.exceptions = true;
        return this.send(PACKETS.OPTION_RES.code, undefined, p.option);
      // Type 5, ALL_YOURS and SUBMIT_JOB_SCHED are not implemented by gearmand either, and the
      // rest are packets only a server sends.
      case 'UNUSED':
      case 'ALL_YOURS':
      case 'SUBMIT_JOB_SCHED':
      case 'NOOP':
      case 'JOB_CREATED':
      case 'NO_JOB':
      case 'JOB_ASSIGN':
      case 'ECHO_RES':
      case 'ERROR':
      case 'STATUS_RES':
      case 'OPTION_RES':
      case 'JOB_ASSIGN_UNIQ':
      case 'JOB_ASSIGN_ALL':
      case 'STATUS_RES_UNIQUE':
        return this.sendError('INVALID_COMMAND', 'Command not expected');
      default: {
        const exhaustive: never = p;
        throw new Error(`unhandled packet ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  /** Output is queued in the outbox; the WriteBatch flushes it at the end of the turn. */
  #queue(): boolean {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return false;
    if (!this.#queued) {
      this.#queued = true;
      this.#ctx.batch.add(this);
    }
    return true;
  }

  flush(): void {
    this.#queued = false;
    if (this.#outbox.empty) return;
    const chunks = this.#outbox.take();
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    if (chunks.length === 1) this.socket.write(chunks[0] as Buffer);
    else if (chunks.length <= CONCAT_MAX_CHUNKS && totalLength(chunks) <= CONCAT_MAX_BYTES) {
      // A turn's replies that straddle two slabs: one copy into one write. The corked writev path
      // is taken too rarely for V8 to optimize it and cost about four times a plain write.
      this.socket.write(Buffer.concat(chunks));
    } else {
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
    if (!this.#paused && this.socket.writableLength > OUTPUT_HIGH_WATER_BYTES) this.#pauseReading();
  }

  /**
   * A peer that sends (ECHO_REQ, submits) without reading the replies: stop reading it until the
   * socket has drained, so its replies cannot pile up in memory. Other peers' packets for it
   * (WORK_* of its jobs) still queue, bounded by the jobs it could submit.
   */
  #pauseReading(): void {
    this.#paused = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.#paused = false;
      if (!this.closed) this.socket.resume();
    });
  }

  /** A RES packet of up to four text arguments and an optional trailing payload. */
  send(code: number, data: Buffer | undefined, a?: string, b?: string, c?: string, d?: string): void {
    if (this.#queue()) this.#outbox.packet(code, data, a, b, c, d);
  }

  /** A RES packet of one text argument and a payload copied from `src[start, end)`. */
  sendFrom(code: number, text: string, src: Buffer, start: number, end: number): void {
    if (this.#queue()) this.#outbox.packetFrom(code, text, src, start, end);
  }

  /** Any packet, through the generic encoder (for the rare replies with more arguments). */
  sendPacket(packet: Packet): void {
    if (this.#queue()) this.#outbox.bytes(encodePacket(packet, 'RES'));
  }

  sendError(code: string, text: string): void {
    this.send(PACKETS.ERROR.code, undefined, code, text);
  }

  sendNoop(): void {
    if (this.#queue()) this.#outbox.bytes(CONSTANT_PACKETS.NOOP);
  }

  sendNoJob(): void {
    if (this.#queue()) this.#outbox.bytes(CONSTANT_PACKETS.NO_JOB);
  }

  sendText(text: string): void {
    if (this.#queue()) this.#outbox.text(text);
  }

  /** Closes after pending writes; the 'close' handler does the cleanup. */
  end(): void {
    if (this.socket.destroyed) return;
    this.flush();
    this.socket.end(() => this.socket.destroy());
  }
}
