/**
 * Shared set-up for the conformance suite: one server per target, sockets closed after each test,
 * function names unique per test, and small helpers built on raw packets only.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { PacketSocket, adminRaw, show } from './packet-socket.ts';
import { startTarget, type ServerTarget, type TargetKind, type TargetOptions } from './server-target.ts';

export const TARGETS: Array<[TargetKind]> = [['gearmand'], ['JobServer']];

export interface Harness {
  readonly target: ServerTarget;
  /** A function name no other test uses. */
  fn(what: string): string;
  open(): Promise<PacketSocket>;
  /** A connection that registered `fns` (CAN_DO each), confirmed by a round trip. */
  worker(fns: string[], clientId?: string): Promise<PacketSocket>;
  /** Submits and returns the handle from JOB_CREATED. */
  submit(client: PacketSocket, type: SubmitType, fn: string, data: string, unique?: string): Promise<string>;
  admin(line: string): Promise<string>;
  /** The `status` row of one function, or undefined. */
  statusRow(fn: string): Promise<string | undefined>;
}

export type SubmitType =
  | 'SUBMIT_JOB'
  | 'SUBMIT_JOB_BG'
  | 'SUBMIT_JOB_HIGH'
  | 'SUBMIT_JOB_HIGH_BG'
  | 'SUBMIT_JOB_LOW'
  | 'SUBMIT_JOB_LOW_BG';

let counter = 0;

/** Call inside describe(): starts the target before the block and stops it after. */
export function useTarget(kind: TargetKind, options: TargetOptions = {}): Harness {
  let target: ServerTarget | undefined;
  let sockets: PacketSocket[] = [];
  beforeAll(async () => {
    target = await startTarget(kind, options);
  });
  afterAll(async () => {
    await target?.stop();
  });
  afterEach(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    sockets = [];
  });
  const harness: Harness = {
    get target(): ServerTarget {
      if (!target) throw new Error('target not started');
      return target;
    },
    fn: (what) => `conf-${what}-${kind}-${process.pid}-${++counter}`,
    async open() {
      const socket = await PacketSocket.connect(harness.target.port);
      sockets.push(socket);
      return socket;
    },
    async worker(fns, clientId) {
      const w = await harness.open();
      if (clientId !== undefined) w.send({ type: 'SET_CLIENT_ID', id: clientId });
      for (const fn of fns) w.send({ type: 'CAN_DO', fn });
      const stray = await w.drain();
      if (stray.length > 0) throw new Error(`unexpected packets after CAN_DO: ${JSON.stringify(stray.map(show))}`);
      return w;
    },
    async submit(client, type, fn, data, unique = '') {
      client.send({ type, fn, unique, data: Buffer.from(data) });
      return (await client.expect('JOB_CREATED')).handle;
    },
    admin: (line) => adminRaw(harness.target.port, line),
    async statusRow(fn) {
      const text = await harness.admin('status');
      return text.split('\n').find((row) => row.split('\t')[0] === fn);
    },
  };
  return harness;
}
