/**
 * The PRE_SLEEP/NOOP loop against a scripted fake job server (reference §3.5). gearmand rarely puts
 * a NOOP between a GRAB and its answer, so a fake server does it on purpose and the test checks
 * the exact packet sequence the worker wrote: one probing grab per wake-up, pipelined grabs (never
 * more than the free slots) once the server assigns jobs, every job handled exactly once.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSTANT_PACKETS, PacketParser, encodePacket, type Packet } from '../../src/protocol/index.ts';
import { Worker } from '../../src/worker/worker.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Bytes the fake server answers a GRAB_JOB_UNIQ with (several packets may share one write). */
type Reply = Buffer[];

const NOOP = CONSTANT_PACKETS.NOOP;
const NO_JOB = CONSTANT_PACKETS.NO_JOB;
const assign = (handle: string, data: string): Buffer =>
  encodePacket({ type: 'JOB_ASSIGN_UNIQ', handle, fn: 'fake-fn', unique: `u-${handle}`, data: Buffer.from(data) }, 'RES');

interface FakeServer {
  port: number;
  /** What the worker sent, as `TYPE` or `TYPE handle`. */
  log: string[];
  /** Writes raw bytes to the (single) worker connection. */
  push(bytes: Buffer): void;
  close(): Promise<void>;
}

/** Answers the n-th GRAB_JOB_UNIQ with replies[n] (NO_JOB once the script runs out). */
async function fakeServer(replies: Reply[]): Promise<FakeServer> {
  const log: string[] = [];
  const sockets = new Set<net.Socket>();
  let grabs = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const parser = new PacketParser({
      onPacket: (packet: Packet) => {
        log.push('handle' in packet ? `${packet.type} ${packet.handle}` : packet.type);
        if (packet.type !== 'GRAB_JOB_UNIQ') return;
        const reply = replies[grabs++] ?? [NO_JOB];
        for (const bytes of reply) socket.write(bytes);
      },
    });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    log,
    push: (bytes) => {
      for (const socket of sockets) socket.write(bytes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let fake: FakeServer | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.close({ timeoutMs: 0 });
  await fake?.close();
  worker = undefined;
  fake = undefined;
});

async function run(replies: Reply[], concurrency: number): Promise<{ handled: string[]; fake: FakeServer; worker: Worker }> {
  fake = await fakeServer(replies);
  const handled: string[] = [];
  worker = new Worker({ servers: [`127.0.0.1:${fake.port}`], concurrency });
  worker.register('fake-fn', (job) => {
    handled.push(job.handle);
    return job.payload;
  });
  await worker.start();
  return { handled, fake, worker };
}

describe('Worker grab loop against a scripted server', () => {
  it('keeps waiting for the answer when a NOOP arrives between GRAB and JOB_ASSIGN_UNIQ / NO_JOB', async () => {
    const { handled, fake: f, worker: w } = await run(
      [
        [Buffer.concat([NOOP, assign('H:1', 'a')])], // NOOP and the answer in one chunk
        [NOOP, NO_JOB], // NOOP and NO_JOB as separate writes
      ],
      1,
    );
    await waitFor(() => f.log.includes('PRE_SLEEP'), 'the worker to go to sleep');
    // One wake-up, as two NOOPs in a row: the second arrives while the grab is outstanding.
    f.push(Buffer.concat([NOOP, NOOP]));
    await waitFor(() => f.log.filter((t) => t === 'PRE_SLEEP').length === 2, 'the worker to sleep again');
    await w.close();
    expect(handled).toEqual(['H:1']);
    expect(f.log).toEqual([
      'CAN_DO',
      'GRAB_JOB_UNIQ',
      'WORK_COMPLETE H:1',
      'GRAB_JOB_UNIQ',
      'PRE_SLEEP',
      'GRAB_JOB_UNIQ',
      'PRE_SLEEP',
    ]);
  });

  it('with free slots, pipelines grabs once the server assigns jobs, never more than the free slots', async () => {
    const { handled, fake: f, worker: w } = await run(
      [
        [NOOP, assign('H:1', 'a')],
        [NOOP, assign('H:2', 'b')],
        [NOOP, NO_JOB],
      ],
      3,
    );
    await waitFor(() => f.log.includes('PRE_SLEEP') && f.log.filter((t) => t.startsWith('WORK_COMPLETE')).length === 2, 'both jobs and a sleep');
    await w.close();
    expect(handled.sort()).toEqual(['H:1', 'H:2']);
    // One probing grab first; after its assignment the free slots (3 - 1 running) are filled with
    // pipelined grabs; the last NO_JOB ends in one PRE_SLEEP.
    const grabsAndSleeps = f.log.filter((t) => t === 'GRAB_JOB_UNIQ' || t === 'PRE_SLEEP');
    expect(grabsAndSleeps[0]).toBe('GRAB_JOB_UNIQ');
    expect(grabsAndSleeps.at(-1)).toBe('PRE_SLEEP');
    expect(grabsAndSleeps.filter((t) => t === 'PRE_SLEEP')).toHaveLength(1);
    // Script: grab 1 → H:1, grab 2 → H:2, grab 3 → NO_JOB, any later grab → NO_JOB.
    expect(grabsAndSleeps.filter((t) => t === 'GRAB_JOB_UNIQ').length).toBeGreaterThanOrEqual(3);
    expect(grabsAndSleeps.filter((t) => t === 'GRAB_JOB_UNIQ').length).toBeLessThanOrEqual(4);
    expect(f.log.filter((t) => t.startsWith('WORK_COMPLETE')).sort()).toEqual(['WORK_COMPLETE H:1', 'WORK_COMPLETE H:2']);
  });

  it('never holds more than `concurrency` jobs: no GRAB while the only slot is busy', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake = await fakeServer([[assign('H:1', 'a')], [NO_JOB]]);
    const f = fake;
    worker = new Worker({ servers: [`127.0.0.1:${f.port}`], concurrency: 1 });
    let started = 0;
    worker.register('fake-fn', async () => {
      started++;
      await gate;
      return 'ok';
    });
    await worker.start();
    await waitFor(() => started === 1, 'the job to start');
    // A wake-up while the slot is busy must not produce a grab.
    f.push(NOOP);
    release();
    await waitFor(() => f.log.includes('PRE_SLEEP'), 'the worker to sleep');
    await worker.close();
    expect(f.log).toEqual(['CAN_DO', 'GRAB_JOB_UNIQ', 'WORK_COMPLETE H:1', 'GRAB_JOB_UNIQ', 'PRE_SLEEP']);
  });
});

describe('Worker grab pipelining against a scripted server', () => {
  let fake: FakeServer | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close({ timeoutMs: 1000 });
    await fake?.close();
    worker = undefined;
    fake = undefined;
  });

  it('has at most one grab outstanding while probing, then up to the free slots', async () => {
    // Count grabs written before any answer to the second one arrives: the server holds its
    // answers to grabs 2..n until the test releases them.
    const log: string[] = [];
    const held: Array<() => void> = [];
    const sockets = new Set<net.Socket>();
    let grabs = 0;
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const parser = new PacketParser({
        onPacket: (packet: Packet) => {
          log.push(packet.type);
          if (packet.type !== 'GRAB_JOB_UNIQ') return;
          const n = ++grabs;
          const reply = n <= 5 ? assign(`H:${n}`, 'x') : NO_JOB;
          if (n === 1) socket.write(reply);
          else held.push(() => socket.write(reply));
        },
      });
      socket.on('data', (chunk: Buffer) => parser.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    fake = {
      port,
      log,
      push: () => {},
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    worker = new Worker({ servers: [`127.0.0.1:${port}`], concurrency: 4 });
    const done: string[] = [];
    worker.register('fake-fn', async (job) => {
      await gate;
      done.push(job.handle);
      return 'ok';
    });
    await worker.start();
    // H:1 runs (held by the gate); 3 slots are free, so 3 pipelined grabs go out unanswered.
    await waitFor(() => log.filter((t) => t === 'GRAB_JOB_UNIQ').length === 4, 'three pipelined grabs');
    await new Promise((r) => setTimeout(r, 50));
    expect(log.filter((t) => t === 'GRAB_JOB_UNIQ')).toHaveLength(4);
    release();
    // Answer every grab from now on as it comes, until all jobs ran and the worker sleeps.
    await waitFor(() => {
      for (const answer of held.splice(0)) answer();
      return done.length === 5 && log.includes('PRE_SLEEP');
    }, 'five jobs and a sleep');
    expect(done.sort()).toEqual(['H:1', 'H:2', 'H:3', 'H:4', 'H:5']);
  });
});
