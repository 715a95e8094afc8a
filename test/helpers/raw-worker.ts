/**
 * A minimal raw-socket Gearman worker for client tests (the real Worker class is written
 * separately): CAN_DO, GRAB_JOB_UNIQ, PRE_SLEEP/NOOP, and WORK_* packets sent by a handler.
 * It uses only the protocol encoder and parser, never the Client under test.
 */
import net from 'node:net';
import { PacketParser } from '../../src/protocol/parser.ts';
import type { Packet } from '../../src/protocol/packets.ts';
import { CONSTANT_PACKETS, encodePacketChunks } from '../../src/protocol/serializer.ts';

export interface AssignedJob {
  handle: string;
  fn: string;
  unique: string;
  data: Buffer;
  server: string;
}

/** What a handler can send for its job. */
export interface JobIo {
  status(numerator: number, denominator: number): void;
  data(chunk: Buffer | string): void;
  warning(chunk: Buffer | string): void;
  complete(result: Buffer | string): void;
  fail(): void;
  exception(text: Buffer | string): void;
  /** Resolves when the worker's connection closes (for handlers that hold a job forever). */
  readonly closed: Promise<void>;
}

export type JobHandler = (job: AssignedJob, io: JobIo) => void | Promise<void>;

export interface RawWorkerOptions {
  host: string;
  port: number;
  functions: string[];
  handler: JobHandler;
  /** Jobs held at once (default 1). */
  concurrency?: number;
}

const asBuffer = (b: Buffer | string): Buffer => (typeof b === 'string' ? Buffer.from(b) : b);

/** Completes with the payload unchanged. */
export const echoHandler: JobHandler = (job, io) => io.complete(job.data);

/**
 * Runs the steps in the JSON payload in order, e.g.
 * `[{"status":[1,2]},{"data":"x"},{"warning":"w"},{"complete":"r"}]`, `[{"fail":true}]`,
 * `[{"exception":"boom"}]`, `[{"hold":true}]` (never finishes).
 */
export const scriptHandler: JobHandler = async (job, io) => {
  const steps = JSON.parse(job.data.toString()) as Array<Record<string, unknown>>;
  for (const step of steps) {
    if ('status' in step) {
      const [n, d] = step['status'] as [number, number];
      io.status(n, d);
    } else if ('data' in step) io.data(String(step['data']));
    else if ('warning' in step) io.warning(String(step['warning']));
    else if ('complete' in step) io.complete(String(step['complete']));
    else if ('fail' in step) io.fail();
    else if ('exception' in step) io.exception(String(step['exception']));
    else if ('hold' in step) await io.closed;
  }
};

export class RawWorker {
  readonly jobs: AssignedJob[] = [];
  readonly address: string;
  readonly #options: RawWorkerOptions;
  readonly #socket: net.Socket;
  readonly #ready: Promise<void>;
  readonly #closed: Promise<void>;
  #active = 0;
  #grabbing = false;
  #sleeping = false;
  #jobWaiters: Array<() => void> = [];

  constructor(options: RawWorkerOptions) {
    this.#options = { concurrency: 1, ...options };
    this.address = `${options.host}:${options.port}`;
    this.#socket = net.connect({ host: options.host, port: options.port });
    this.#socket.setNoDelay(true);
    this.#socket.on('error', () => {});
    this.#closed = new Promise((resolve) => this.#socket.once('close', () => resolve()));
    const parser = new PacketParser({ onPacket: (packet) => this.#onPacket(packet) });
    this.#socket.on('data', (chunk: Buffer) => parser.push(chunk));
    this.#ready = new Promise((resolve, reject) => {
      this.#socket.once('connect', () => {
        for (const fn of options.functions) this.#send({ type: 'CAN_DO', fn });
        this.#grab();
        resolve();
      });
      this.#socket.once('error', reject);
    });
  }

  /** Connected and registered (CAN_DO written). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Resolves once at least `count` jobs were assigned. */
  async waitForJobs(count: number): Promise<void> {
    while (this.jobs.length < count) await new Promise<void>((resolve) => this.#jobWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return this.#closed;
  }

  #send(packet: Packet): void {
    if (this.#socket.destroyed) return;
    for (const chunk of encodePacketChunks(packet, 'REQ')) this.#socket.write(chunk);
  }

  #grab(): void {
    if (this.#grabbing || this.#active >= (this.#options.concurrency ?? 1) || this.#socket.destroyed) return;
    this.#grabbing = true;
    this.#sleeping = false;
    this.#socket.write(CONSTANT_PACKETS.GRAB_JOB_UNIQ);
  }

  #onPacket(packet: Packet): void {
    switch (packet.type) {
      case 'NO_JOB':
        this.#grabbing = false;
        this.#sleeping = true;
        this.#socket.write(CONSTANT_PACKETS.PRE_SLEEP);
        return;
      case 'NOOP':
        if (this.#sleeping) this.#grab();
        return;
      case 'JOB_ASSIGN_UNIQ': {
        this.#grabbing = false;
        this.#active++;
        const job: AssignedJob = {
          handle: packet.handle,
          fn: packet.fn,
          unique: packet.unique,
          data: Buffer.from(packet.data),
          server: this.address,
        };
        this.jobs.push(job);
        for (const wake of this.#jobWaiters.splice(0)) wake();
        void this.#run(job);
        this.#grab();
        return;
      }
      default:
        return; // ERROR JOB_NOT_FOUND after a converted exception and the like: not our concern
    }
  }

  async #run(job: AssignedJob): Promise<void> {
    const { handle } = job;
    const io: JobIo = {
      status: (n, d) => this.#send({ type: 'WORK_STATUS', handle, numerator: String(n), denominator: String(d) }),
      data: (chunk) => this.#send({ type: 'WORK_DATA', handle, data: asBuffer(chunk) }),
      warning: (chunk) => this.#send({ type: 'WORK_WARNING', handle, data: asBuffer(chunk) }),
      complete: (result) => this.#send({ type: 'WORK_COMPLETE', handle, data: asBuffer(result) }),
      fail: () => this.#send({ type: 'WORK_FAIL', handle }),
      exception: (text) => this.#send({ type: 'WORK_EXCEPTION', handle, data: asBuffer(text) }),
      closed: this.#closed,
    };
    try {
      await this.#options.handler(job, io);
    } catch (error) {
      io.exception(String(error));
    }
    this.#active--;
    this.#grab();
  }
}
