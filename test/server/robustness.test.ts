/**
 * Malformed input ends that peer's connection alone: each kind of bad packet once, then a seeded
 * fuzz run of random and mutated packets on many connections, after which the server still
 * answers and runs jobs for well-behaved peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PACKETS, encodePacket, type Packet, type PacketType } from '../../src/protocol/index.ts';
import { JobServer } from '../../src/server/job-server.ts';
import { packetHeader } from '../fixtures/packets.ts';
import { useJobServers } from '../helpers/job-servers.ts';
import { PacketSocket, adminRaw, show } from '../helpers/packet-socket.ts';
import { mulberry32 } from '../helpers/random.ts';

const servers = useJobServers();
const open = servers.open;
let logLines: string[] = [];

function listen(maxPacketSize = 1024 * 1024): Promise<JobServer> {
  return servers.listen({ maxPacketSize, logger: (line) => logLines.push(line) });
}

afterEach(() => {
  logLines = [];
});

/** Runs a job end to end for a fresh client and worker; returns the result. */
async function healthyJob(s: JobServer, fn: string): Promise<string> {
  const [c, w] = [await open(s), await open(s)];
  w.send({ type: 'CAN_DO', fn });
  await w.drain();
  c.send({ type: 'SUBMIT_JOB', fn, unique: '', data: Buffer.from('ping') });
  const handle = (await c.expect('JOB_CREATED')).handle;
  w.send({ type: 'GRAB_JOB' });
  const assign = await w.expect('JOB_ASSIGN');
  w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from(`${assign.data.toString()}-pong`) });
  return (await c.expect('WORK_COMPLETE')).data.toString();
}

describe('JobServer and malformed input', () => {
  it.each([
    ['a declared size above maxPacketSize', packetHeader(7, 2 * 1024 * 1024), 'ARGUMENT_TOO_LARGE'],
    ['too few arguments inside the declared size', Buffer.concat([packetHeader(7, 3), Buffer.from('abc')]), 'INVALID_PACKET'],
    ['bad magic', packetHeader(7, 0, 0x00424144), 'INVALID_MAGIC'],
    ['an unknown type', packetHeader(99, 0), 'INVALID_COMMAND'],
  ])('answers %s with ERROR and closes that connection only', async (_what, bytes, code) => {
    const s = await listen();
    const fn = `robust-${code}`;
    const bystander = await open(s);
    bystander.send({ type: 'SUBMIT_JOB', fn, unique: '', data: Buffer.from('x') });
    await bystander.expect('JOB_CREATED');
    const bad = await open(s);
    bad.sendRaw(bytes);
    await bad.closed;
    expect(bad.received.map((p) => (p.type === 'ERROR' ? p.code : p.type))).toEqual([code]);
    // The bystander's queued job is still there and runs.
    const w = await open(s);
    w.send({ type: 'CAN_DO', fn }, { type: 'GRAB_JOB' });
    const { handle } = await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('fine') });
    expect(show(await bystander.expect('WORK_COMPLETE'))).toEqual({ type: 'WORK_COMPLETE', handle, data: 'fine' });
  });

  it('closes a connection that sends an endless text line, and answers garbage lines with ERR', async () => {
    const s = await listen();
    expect(await adminRaw(s.port, '\x01\x02garbage')).toBe('ERR UNKNOWN_COMMAND Unknown+server+command\x01\x02garbage\r\n');
    const endless = await open(s);
    endless.sendRaw(Buffer.alloc(70 * 1024, 0x41));
    await endless.closed;
    expect(endless.received).toEqual([]);
    expect(await adminRaw(s.port, 'version')).toBe('OK 1.1.20+gmr\n');
    expect(await healthyJob(s, 'robust-after-text')).toBe('ping-pong');
  });
});

const TYPES = Object.keys(PACKETS) as PacketType[];
const ADMIN = ['status', 'workers', 'prioritystatus', 'show jobs', 'show unique jobs', 'cancel job H:x:1', 'maxqueue f 1', 'create function f', 'drop function f', 'getpid', 'verbose', 'version', 'bogus'];

function fuzzPacket(random: () => number): Buffer {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const word = (): string => pick(['', 'f', 'fuzz-a', 'fuzz-b', '-', 'H:x:1', '1000', 'exceptions', 'x'.repeat(70)]);
  const kind = random();
  if (kind < 0.04) return Buffer.from(`${pick(ADMIN)}\n`);
  if (kind < 0.06) {
    const bytes = Buffer.alloc(1 + Math.floor(random() * 40));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    return bytes;
  }
  const type = pick(TYPES);
  const record: Record<string, string | Buffer> = { type };
  for (const arg of PACKETS[type].args) record[arg] = word();
  if ('data' in PACKETS[type]) record['data'] = Buffer.from(word());
  const packet = encodePacket(record as unknown as Packet, random() < 0.05 ? 'RES' : 'REQ');
  if (kind < 0.09) {
    // Mutate: flip a byte, or shrink/grow the declared size a little.
    const mutated = Buffer.from(packet);
    if (random() < 0.5) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    else mutated.writeUInt32BE(Math.max(0, mutated.readUInt32BE(8) + Math.floor(random() * 9) - 4), 8);
    return mutated;
  }
  return packet;
}

describe('JobServer fuzz', () => {
  it('survives thousands of random and mutated packets on many connections (seed 20240611)', async () => {
    const s = await listen();
    const random = mulberry32(20240611);
    // 24 connections at a time; one that the server closed is replaced by a new one.
    const slots = await Promise.all(Array.from({ length: 24 }, () => open(s)));
    const connections = [...slots];
    let sent = 0;
    while (sent < 4000) {
      for (let i = 0; i < slots.length; i++) {
        let conn = slots[i] as PacketSocket;
        if (conn.isClosed) {
          conn = await open(s);
          slots[i] = conn;
          connections.push(conn);
        }
        const burst: Buffer[] = [];
        for (let j = 0; j < 20; j++) burst.push(fuzzPacket(random));
        conn.sendRaw(Buffer.concat(burst));
        sent += burst.length;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Some connections stay open with half-sent frames or jobs; close them all abruptly.
    await Promise.all(connections.map((c) => c.close()));
    const probe = await open(s);
    probe.send({ type: 'ECHO_REQ', data: Buffer.from('alive') });
    expect((await probe.expect('ECHO_RES')).data.toString()).toBe('alive');
    expect(await healthyJob(s, 'fuzz-healthy')).toBe('ping-pong');
    expect((await adminRaw(s.port, 'status')).endsWith('.\n')).toBe(true);
    expect(logLines.filter((l) => l.includes('internal error'))).toEqual([]);
    // The run did exercise both paths: many peers were cut off, and many packets were answered.
    expect(logLines.filter((l) => l.endsWith('; closing')).length).toBeGreaterThan(20);
    expect(connections.reduce((sum, c) => sum + c.socket.bytesRead, 0)).toBeGreaterThan(20_000);
  });
});
