/**
 * A minimal Gearman client over a raw socket, for worker tests until the real Client exists:
 * SUBMIT_JOB* (JOB_CREATED matched in FIFO order), OPTION_REQ, and every WORK_* packet collected
 * per handle in arrival order. Plus `adminCommand` for the text protocol (`status`, `workers`).
 */
import net from 'node:net';
import { PacketParser, encodePacketChunks, type Packet } from '../../src/protocol/index.ts';
import { adminRaw } from './packet-socket.ts';

type WorkPacket = Extract<Packet, { type: 'WORK_STATUS' | 'WORK_COMPLETE' | 'WORK_FAIL' | 'WORK_EXCEPTION' | 'WORK_DATA' | 'WORK_WARNING' }>;
type SubmitType = 'SUBMIT_JOB' | 'SUBMIT_JOB_BG' | 'SUBMIT_JOB_HIGH' | 'SUBMIT_JOB_LOW';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

const TERMINAL = new Set(['WORK_COMPLETE', 'WORK_FAIL', 'WORK_EXCEPTION']);

export class RawClient {
  readonly #socket: net.Socket;
  readonly #created: Waiter<string>[] = [];
  readonly #options: Waiter<string>[] = [];
  readonly #work = new Map<string, WorkPacket[]>();
  readonly #done = new Map<string, Waiter<WorkPacket[]>[]>();
  /** ERROR packets received. */
  readonly errors: Extract<Packet, { type: 'ERROR' }>[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const parser = new PacketParser({ onPacket: (packet) => this.#onPacket(packet) });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('close', () => {
      const error = new Error('raw client socket closed');
      for (const waiter of [...this.#created, ...this.#options, ...[...this.#done.values()].flat()]) waiter.reject(error);
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve(new RawClient(socket));
      });
    });
  }

  #send(packet: Packet): void {
    for (const chunk of encodePacketChunks(packet, 'REQ')) this.#socket.write(chunk);
  }

  /** Submits a job and resolves with its handle. */
  submit(fn: string, payload: Buffer | string, options: { unique?: string; type?: SubmitType } = {}): Promise<string> {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return new Promise((resolve, reject) => {
      this.#created.push({ resolve, reject });
      this.#send({ type: options.type ?? 'SUBMIT_JOB', fn, unique: options.unique ?? '', data });
    });
  }

  /** OPTION_REQ; resolves with the echoed option name. */
  option(name: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#options.push({ resolve, reject });
      this.#send({ type: 'OPTION_REQ', option: name });
    });
  }

  /** WORK_* packets received so far for a handle, in order. */
  packets(handle: string): WorkPacket[] {
    return this.#work.get(handle) ?? [];
  }

  /** Resolves with all WORK_* packets of a handle once a WORK_COMPLETE/FAIL/EXCEPTION arrived. */
  result(handle: string): Promise<WorkPacket[]> {
    const got = this.packets(handle);
    if (got.some((p) => TERMINAL.has(p.type))) return Promise.resolve(got);
    return new Promise((resolve, reject) => {
      const list = this.#done.get(handle) ?? [];
      list.push({ resolve, reject });
      this.#done.set(handle, list);
    });
  }

  /** Submits and waits for the outcome. */
  async run(fn: string, payload: Buffer | string, options: { unique?: string } = {}): Promise<WorkPacket[]> {
    return this.result(await this.submit(fn, payload, options));
  }

  #onPacket(packet: Packet): void {
    switch (packet.type) {
      case 'JOB_CREATED': {
        const waiter = this.#created.shift();
        if (!waiter) throw new Error(`JOB_CREATED ${packet.handle} without a pending submit`);
        return waiter.resolve(packet.handle);
      }
      case 'OPTION_RES':
        return this.#options.shift()?.resolve(packet.option);
      case 'ERROR': {
        this.errors.push(packet);
        const waiter = this.#created.shift() ?? this.#options.shift();
        return waiter?.reject(new Error(`ERROR ${packet.code}: ${packet.text}`));
      }
      case 'WORK_STATUS': case 'WORK_COMPLETE': case 'WORK_FAIL': case 'WORK_EXCEPTION': case 'WORK_DATA': case 'WORK_WARNING': {
        // gearmand 1.1.20 sends WORK_FAIL's handle with a stray trailing NUL (§3.9).
        const handle = packet.handle.replace(/\0+$/, '');
        const list = this.#work.get(handle) ?? [];
        list.push({ ...packet, handle });
        this.#work.set(handle, list);
        if (TERMINAL.has(packet.type)) {
          for (const waiter of this.#done.get(handle) ?? []) waiter.resolve(list);
          this.#done.delete(handle);
        }
        return;
      }
      default:
        throw new Error(`raw client: unexpected ${packet.type}`);
    }
  }

  close(): Promise<void> {
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }
}

/** Sends one admin text command and returns the reply lines (up to the final `.` for lists). */
export async function adminCommand(port: number, command: string, host = '127.0.0.1'): Promise<string[]> {
  const text = Buffer.from(await adminRaw(port, command, host), 'latin1').toString('utf8');
  const lines = text.split('\n');
  const end = lines.indexOf('.');
  return end >= 0 ? lines.slice(0, end) : [lines[0] ?? ''];
}

/** The `status` row of one function: TOTAL (queued + running), RUNNING, WORKERS. */
export async function functionStatus(port: number, fn: string): Promise<{ total: number; running: number; workers: number } | undefined> {
  const row = (await adminCommand(port, 'status')).map((line) => line.split('\t')).find((cols) => cols[0] === fn);
  if (!row) return undefined;
  return { total: Number(row[1]), running: Number(row[2]), workers: Number(row[3]) };
}
