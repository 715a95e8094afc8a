/**
 * bench/job-server-cpu: the JobServer's own CPU per foreground job, with no kernel and no other
 * process in the way: one client and one worker connection on sockets that never touch the network
 * (bytes go straight into ServerConnection and come back from its writes), so the figure moves only
 * with the server's JavaScript, not with the machine's load.
 *
 *   npx tsx bench/job-server-cpu.ts [--jobs 200000] [--batch 100] [--inflight 100] [--rounds 5]
 *
 * Each step the client submits `batch` SUBMIT_JOBs (32-byte payloads, no unique) in one read, the
 * worker sends `batch` GRAB_JOB_UNIQs in one read, then `batch` WORK_COMPLETEs, and the server's
 * replies are flushed, as the write batch does at the end of an event-loop turn. With --inflight
 * above --batch, that many more jobs wait in the queue the whole time (the 1000-in-flight case:
 * jobs live longer, so the garbage collector sees more of them). Every reply is
 * counted, so a server that dropped one fails the bench. Prints CPU µs per job (user + system of
 * this process) per round; the first round includes V8's warm-up.
 */
import net from 'node:net';
import { JobBroker } from '../src/server/job-broker.ts';
import { ServerConnection, type ConnectionContext } from '../src/server/server-connection.ts';
import { WriteBatch } from '../src/server/write-batch.ts';
import { flag } from './lib/args.ts';

const JOBS = Number(flag('jobs', '200000'));
const BATCH = Number(flag('batch', '100'));
const ROUNDS = Number(flag('rounds', '5'));
const INFLIGHT = Math.max(BATCH, Number(flag('inflight', String(BATCH))));
const PREFIX = 'H:bench';
const FN = 'bench_fn';

/** A socket that is never connected: the server's writes are collected, reads are pushed by hand. */
class LoopSocket extends net.Socket {
  readonly written: Buffer[] = [];
  override setNoDelay(): this {
    return this;
  }
  override write(chunk: Uint8Array | string): boolean {
    this.written.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return true;
  }
  override cork(): void {}
  override uncork(): void {}
  /** Bytes written since the last call, and how many packets they hold. */
  drain(): number {
    let packets = 0;
    for (const buf of this.written) {
      for (let pos = 0; pos + 12 <= buf.length; pos += 12 + buf.readUInt32BE(pos + 8)) packets++;
    }
    this.written.length = 0;
    return packets;
  }
}

function frame(code: number, fields: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  fields.forEach((f, i) => {
    if (i > 0) parts.push(Buffer.from([0]));
    parts.push(typeof f === 'string' ? Buffer.from(f) : f);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(0x00524551, 0);
  head.writeUInt32BE(code, 4);
  head.writeUInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

const batch = new WriteBatch();
const broker = new JobBroker({ jobHandlePrefix: PREFIX, jobRetries: 0, maxMemory: 0, flush: () => batch.flush(), log: () => {} });
const context: ConnectionContext = {
  broker,
  batch,
  admin: { broker: broker.admin, verbose: false, allowShutdown: false, shutdown: () => {} },
  maxPacketSize: 1 << 27,
  log: () => {},
  onClose: () => {},
};
const clientSocket = new LoopSocket();
const workerSocket = new LoopSocket();
new ServerConnection(1, clientSocket, context);
new ServerConnection(2, workerSocket, context);

const payload = Buffer.alloc(32, 7);
const submits = Buffer.concat(Array.from({ length: BATCH }, () => frame(7, [FN, '', payload])));
const grabs = Buffer.concat(Array.from({ length: BATCH }, () => frame(30, [])));
workerSocket.emit('data', frame(1, [FN]));
let handle = 0;
// Jobs that stay queued ahead of the ones each step completes (FIFO: the oldest are assigned first).
const AHEAD = Math.ceil((INFLIGHT - BATCH) / BATCH) * BATCH;
for (let queued = 0; queued < AHEAD; queued += BATCH) clientSocket.emit('data', submits);
batch.flush();
clientSocket.drain();

/** One step: `BATCH` jobs submitted, grabbed and completed; returns the replies counted. */
function step(): number {
  clientSocket.emit('data', submits);
  batch.flush();
  workerSocket.emit('data', grabs);
  batch.flush();
  // The worker answers the assigned handles (they are sequential), as real workers do.
  const completes: Buffer[] = [];
  for (let i = 0; i < BATCH; i++) completes.push(frame(13, [`${PREFIX}:${++handle}`, payload]));
  workerSocket.emit('data', Buffer.concat(completes));
  batch.flush();
  return clientSocket.drain() + workerSocket.drain();
}

/** The cost of building the worker's WORK_COMPLETEs, which is the bench's own, not the server's. */
function driverUs(steps: number): number {
  const t = process.cpuUsage();
  let h = 0;
  for (let s = 0; s < steps; s++) {
    const completes: Buffer[] = [];
    for (let i = 0; i < BATCH; i++) completes.push(frame(13, [`${PREFIX}:${++h}`, payload]));
    Buffer.concat(completes);
  }
  const c = process.cpuUsage(t);
  return c.user + c.system;
}

const steps = Math.ceil(JOBS / BATCH);
const overhead = driverUs(steps) / (steps * BATCH);
process.stdout.write(`${steps * BATCH} jobs per round, ${BATCH} per step; the driver's own work (${overhead.toFixed(2)} µs/job) is subtracted\n`);
for (let round = 0; round < ROUNDS; round++) {
  const t = process.cpuUsage();
  let replies = 0;
  for (let s = 0; s < steps; s++) replies += step();
  const c = process.cpuUsage(t);
  // JOB_CREATED + WORK_COMPLETE to the client, JOB_ASSIGN_UNIQ to the worker.
  if (replies !== steps * BATCH * 3) throw new Error(`expected ${steps * BATCH * 3} replies, counted ${replies}`);
  const us = (c.user + c.system) / (steps * BATCH) - overhead;
  process.stdout.write(`round ${round + 1}: ${us.toFixed(2)} µs/job (user ${(c.user / (steps * BATCH)).toFixed(2)}, system ${(c.system / (steps * BATCH)).toFixed(2)})\n`);
}
if (broker.jobs.size !== AHEAD) throw new Error(`${AHEAD} jobs should be queued, ${broker.jobs.size} are`);
