/**
 * JobBroker without a socket: fake peers record what the broker sends them, as text lines built
 * from a hand-written code table (wire codes from the Gearman PROTOCOL document).
 */
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../src/protocol/index.ts';
import { JobBroker } from '../../src/server/job-broker.ts';
import type { Peer } from '../../src/server/peer.ts';
import type { Session } from '../../src/server/records.ts';
import type { SubmitPacket } from '../../src/server/submit.ts';

const NAMES: Record<number, string> = {
  6: 'NOOP',
  8: 'JOB_CREATED',
  10: 'NO_JOB',
  11: 'JOB_ASSIGN',
  12: 'WORK_STATUS',
  13: 'WORK_COMPLETE',
  14: 'WORK_FAIL',
  19: 'ERROR',
  25: 'WORK_EXCEPTION',
  28: 'WORK_DATA',
  31: 'JOB_ASSIGN_UNIQ',
};

class FakePeer implements Peer {
  readonly id: number;
  readonly remoteAddress = '10.0.0.1';
  clientId = '-';
  exceptions = false;
  readonly sent: string[] = [];

  constructor(id: number) {
    this.id = id;
  }

  send(code: number, data: Buffer | undefined, ...args: Array<string | undefined>): void {
    const words = [NAMES[code] ?? `code-${code}`, ...args.filter((a): a is string => a !== undefined)];
    if (data !== undefined) words.push(`[${data.toString()}]`);
    this.sent.push(words.join(' '));
  }

  sendFrom(code: number, text: string, src: Buffer, start: number, end: number): void {
    this.send(code, Buffer.from(src.subarray(start, end)), text);
  }

  sendPacket(packet: Packet): void {
    this.sent.push(JSON.stringify(packet));
  }

  sendError(code: string, text: string): void {
    this.sent.push(`ERROR ${code} ${text}`);
  }

  sendNoop(): void {
    this.sent.push('NOOP');
  }

  sendNoJob(): void {
    this.sent.push('NO_JOB');
  }

  /** What was sent since the last call. */
  take(): string[] {
    return this.sent.splice(0);
  }
}

function setup(jobRetries = 0): { broker: JobBroker; connect: () => [FakePeer, Session]; logs: string[] } {
  const logs: string[] = [];
  const broker = new JobBroker({ jobHandlePrefix: 'H:t', jobRetries, maxMemory: 0, flush: () => {}, log: (line) => logs.push(line) });
  let id = 0;
  return {
    broker,
    logs,
    connect: () => {
      const peer = new FakePeer(++id);
      return [peer, broker.open(peer)];
    },
  };
}

function submit(fn: string, data: string, unique = '', type: SubmitPacket['type'] = 'SUBMIT_JOB'): SubmitPacket {
  return { type, fn, unique, data: Buffer.from(data) } as SubmitPacket;
}

describe('JobBroker with fake peers', () => {
  it('submits, assigns and forwards the result to every coalesced client', () => {
    const { broker, connect } = setup();
    const [c1, s1] = connect();
    const [c2, s2] = connect();
    const [w, sw] = connect();
    broker.submit(s1, submit('rev', 'abc', 'u1'));
    broker.submit(s2, submit('rev', 'other', 'u1'));
    expect(c1.take()).toEqual(['JOB_CREATED H:t:1']);
    expect(c2.take()).toEqual(['JOB_CREATED H:t:1']);
    broker.registry.canDo(sw, 'rev');
    broker.grab(sw, 'GRAB_JOB_UNIQ');
    expect(w.take()).toEqual(['JOB_ASSIGN_UNIQ H:t:1 rev u1 [abc]']);
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:1', data: Buffer.from('cba') });
    expect(c1.take()).toEqual(['WORK_COMPLETE H:t:1 [cba]']);
    expect(c2.take()).toEqual(['WORK_COMPLETE H:t:1 [cba]']);
    broker.grab(sw, 'GRAB_JOB');
    expect(w.take()).toEqual(['NO_JOB']);
    expect([...broker.admin.functionStatus()]).toEqual([{ function: 'rev', total: 0, running: 0, workers: 1 }]);
  });

  it('takes HIGH before NORMAL across functions, and wakes a sleeping worker once', () => {
    const { broker, connect } = setup();
    const [, sc] = connect();
    const [w, sw] = connect();
    broker.registry.canDo(sw, 'a');
    broker.registry.canDo(sw, 'b');
    broker.registry.preSleep(sw);
    broker.submit(sc, submit('a', 'normal-a', '', 'SUBMIT_JOB_BG'));
    broker.submit(sc, submit('b', 'high-b', '', 'SUBMIT_JOB_HIGH_BG'));
    expect(w.take()).toEqual(['NOOP']);
    broker.grab(sw, 'GRAB_JOB');
    broker.grab(sw, 'GRAB_JOB');
    expect(w.take()).toEqual(['JOB_ASSIGN H:t:2 b [high-b]', 'JOB_ASSIGN H:t:1 a [normal-a]']);
  });

  it('requeues a dead worker’s job with retries+1 and fails it past jobRetries', () => {
    const { broker, connect, logs } = setup(2);
    const [c, sc] = connect();
    const [, w1] = connect();
    broker.submit(sc, submit('f', 'x'));
    c.take();
    broker.registry.canDo(w1, 'f');
    broker.grab(w1, 'GRAB_JOB');
    broker.disconnect(w1);
    expect([...broker.admin.jobs()]).toEqual([{ handle: 'H:t:1', retries: 1, ignore: false, queued: false }]);
    const [, w2] = connect();
    broker.registry.canDo(w2, 'f');
    broker.grab(w2, 'GRAB_JOB');
    broker.disconnect(w2);
    expect(c.take()).toEqual(['WORK_FAIL H:t:1']);
    expect([...broker.admin.jobs()]).toEqual([]);
    expect(logs).toContain('job H:t:1 (f) failed after 2 attempts');
  });

  it('drops a queued foreground job whose only client left, keeps a background one', () => {
    const { broker, connect } = setup();
    const [, sc] = connect();
    broker.submit(sc, submit('f', 'fg'));
    broker.submit(sc, submit('f', 'bg', '', 'SUBMIT_JOB_BG'));
    broker.disconnect(sc);
    expect([...broker.admin.jobs()].map((j) => j.handle)).toEqual(['H:t:2']);
    expect([...broker.admin.workers()]).toEqual([]);
  });

  it('answers a result for a job the worker does not hold with JOB_NOT_FOUND', () => {
    const { broker, connect } = setup();
    const [w, sw] = connect();
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:99', data: Buffer.from('r') });
    expect(w.take()).toEqual(['ERROR JOB_NOT_FOUND Job given in work result not found']);
  });

  it('lists sessions for admin `workers`, newest registration first', () => {
    const { broker, connect } = setup();
    const [peer, s] = connect();
    peer.clientId = 'w-1';
    broker.registry.canDo(s, 'one');
    broker.registry.canDo(s, 'two');
    expect([...broker.admin.workers()]).toEqual([{ fd: 1, ip: '10.0.0.1', clientId: 'w-1', functions: ['two', 'one'] }]);
    expect(broker.admin.dropFunction('one')).toBe('busy');
    expect(broker.admin.dropFunction('nope')).toBe('unknown');
    broker.registry.reset(s);
    // Nothing refers to them any more: forgotten without `drop function` (gearmand keeps them).
    expect([...broker.admin.functionStatus()]).toEqual([]);
    expect(broker.admin.dropFunction('one')).toBe('unknown');
  });

  it('forgets a function record when its last job ends and no worker is registered; keeps one admin created', () => {
    const { broker, connect } = setup();
    const [, sc] = connect();
    const [, sw] = connect();
    expect(broker.admin.createFunction('kept')).toBeUndefined();
    broker.submit(sc, submit('gone', 'x', '', 'SUBMIT_JOB_BG'));
    expect([...broker.admin.functionStatus()].map((r) => r.function)).toEqual(['kept', 'gone']);
    broker.registry.canDo(sw, 'gone');
    broker.grab(sw, 'GRAB_JOB');
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:1', data: Buffer.from('') });
    expect([...broker.admin.functionStatus()].map((r) => r.function)).toEqual(['kept', 'gone']);
    broker.disconnect(sw);
    expect([...broker.admin.functionStatus()].map((r) => r.function)).toEqual(['kept']);
    expect(broker.admin.dropFunction('kept')).toBe('dropped');
  });

  it('refuses a new job past maxMemory with QUEUE_ERROR naming the budget; a finished job frees its bytes', () => {
    const logs: string[] = [];
    const broker = new JobBroker({ jobHandlePrefix: 'H:m', jobRetries: 0, maxMemory: 10, flush: () => {}, log: (l) => logs.push(l) });
    const peer = new FakePeer(1);
    const s = broker.open(peer);
    broker.submit(s, submit('f', '123456', '', 'SUBMIT_JOB_BG'));
    broker.submit(s, submit('f', '12345', '', 'SUBMIT_JOB_BG'));
    broker.submit(s, submit('f', '1234', '', 'SUBMIT_JOB_BG'));
    expect(peer.take()).toEqual([
      'JOB_CREATED H:m:1',
      'ERROR QUEUE_ERROR Server memory budget full: jobs hold 6 of 10 bytes (maxMemory, gmr server --max-memory); a job of 5 bytes is refused',
      'JOB_CREATED H:m:2',
    ]);
    broker.registry.canDo(s, 'f');
    broker.grab(s, 'GRAB_JOB');
    peer.take();
    broker.work(s, { type: 'WORK_COMPLETE', handle: 'H:m:1', data: Buffer.from('') });
    broker.submit(s, submit('f', '123456', '', 'SUBMIT_JOB_BG'));
    expect(peer.take()).toEqual(['JOB_CREATED H:m:3']);
  });

  it('cancel: WORK_FAIL to the client, the queued job is gone', () => {
    const { broker, connect } = setup();
    const [c, sc] = connect();
    broker.submit(sc, submit('f', 'x', 'k'));
    c.take();
    expect(broker.admin.cancel('H:t:1')).toBe(true);
    expect(c.take()).toEqual(['WORK_FAIL H:t:1']);
    expect(broker.admin.cancel('H:t:1')).toBe(false);
    expect([...broker.admin.uniques()]).toEqual([]);
  });

  it('a client that ran hundreds of jobs and left: exactly its still-waiting jobs are dropped, a shared one stays', () => {
    const { broker, connect } = setup();
    const [, sc] = connect();
    const [c2, s2] = connect();
    const [w, sw] = connect();
    broker.registry.canDo(sw, 'f');
    // 40 jobs of a function nobody runs wait the whole time, while 300 jobs run to the end (the
    // client's list of attachments is compacted on the way, and must keep the 40).
    for (let i = 1; i <= 40; i++) broker.submit(sc, submit('g', `q${i}`));
    for (let i = 41; i <= 340; i++) {
      broker.submit(sc, submit('f', `p${i}`));
      broker.grab(sw, 'GRAB_JOB');
      broker.work(sw, { type: 'WORK_COMPLETE', handle: `H:t:${i}`, data: Buffer.from('ok') });
    }
    // Then: H:t:341 shared with client 2, H:t:342 background.
    broker.submit(sc, submit('f', 'b', 'shared'));
    broker.submit(s2, submit('f', 'b', 'shared'));
    broker.submit(sc, submit('f', 'd', '', 'SUBMIT_JOB_BG'));
    expect([...broker.admin.jobs()]).toHaveLength(42);
    broker.disconnect(sc);
    expect([...broker.admin.jobs()].map((j) => j.handle)).toEqual(['H:t:341', 'H:t:342']);
    w.take();
    broker.grab(sw, 'GRAB_JOB');
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:341', data: Buffer.from('B') });
    expect(c2.take()).toEqual(['JOB_CREATED H:t:341', 'WORK_COMPLETE H:t:341 [B]']);
  });

  it('jobs without clients share no list: a finished, cancelled or background job hands its result to exactly the clients attached since', () => {
    const { broker, connect } = setup();
    const [a, sa] = connect();
    const [b, sb] = connect();
    const [w, sw] = connect();
    broker.registry.canDo(sw, 'f');
    const complete = (handle: string, data: string): void => {
      broker.grab(sw, 'GRAB_JOB');
      broker.work(sw, { type: 'WORK_COMPLETE', handle, data: Buffer.from(data) });
    };
    // A's job ends; B's job with the same unique is a new job that only B hears of.
    broker.submit(sa, submit('f', 'x', 'u'));
    complete('H:t:1', 'one');
    broker.submit(sb, submit('f', 'x', 'u'));
    complete('H:t:2', 'two');
    // A background job (no client yet) that A, then B, join before it runs: both hear, in order.
    broker.submit(sb, submit('f', 'y', 'bg', 'SUBMIT_JOB_BG'));
    broker.submit(sa, submit('f', 'y', 'bg'));
    broker.submit(sb, submit('f', 'y', 'bg'));
    complete('H:t:3', 'three');
    // A running job cancelled: its clients are told once; a new submit of its unique is a new job.
    broker.submit(sa, submit('f', 'z', 'c'));
    broker.grab(sw, 'GRAB_JOB');
    expect(broker.admin.cancel('H:t:4')).toBe(true);
    broker.submit(sb, submit('f', 'z', 'c'));
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:4', data: Buffer.from('lost') });
    complete('H:t:5', 'five');
    // A leaves: nothing of B's is dropped.
    broker.disconnect(sa);
    broker.submit(sb, submit('f', 'last'));
    complete('H:t:6', 'six');
    expect(a.take()).toEqual(['JOB_CREATED H:t:1', 'WORK_COMPLETE H:t:1 [one]', 'JOB_CREATED H:t:3', 'WORK_COMPLETE H:t:3 [three]', 'JOB_CREATED H:t:4', 'WORK_FAIL H:t:4']);
    expect(b.take()).toEqual([
      'JOB_CREATED H:t:2',
      'WORK_COMPLETE H:t:2 [two]',
      'JOB_CREATED H:t:3',
      'JOB_CREATED H:t:3',
      'WORK_COMPLETE H:t:3 [three]',
      'JOB_CREATED H:t:5',
      'WORK_COMPLETE H:t:5 [five]',
      'JOB_CREATED H:t:6',
      'WORK_COMPLETE H:t:6 [six]',
    ]);
    expect(w.take().filter((line) => line.startsWith('JOB_ASSIGN')).map((line) => line.split(' ')[1])).toEqual(['H:t:1', 'H:t:2', 'H:t:3', 'H:t:4', 'H:t:5', 'H:t:6']);
    expect([...broker.admin.jobs()]).toEqual([]);
  });

  it('a job listed twice for one client, or already cancelled, is dropped once when the client leaves (memory budget exact)', () => {
    const broker = new JobBroker({ jobHandlePrefix: 'H:t', jobRetries: 0, maxMemory: 4, flush: () => {}, log: () => {} });
    const client = new FakePeer(1);
    const sc = broker.open(client);
    broker.submit(sc, submit('f', 'x', 'twice'));
    broker.submit(sc, submit('f', 'x', 'twice'));
    broker.submit(sc, submit('f', 'y'));
    expect(broker.admin.cancel('H:t:2')).toBe(true);
    broker.disconnect(sc);
    expect([...broker.admin.jobs()]).toEqual([]);
    // Nothing is held now: 4 bytes fit the budget of 4, 5 do not.
    const other = new FakePeer(2);
    const so = broker.open(other);
    broker.submit(so, submit('f', '12345'));
    broker.submit(so, submit('f', '1234'));
    expect(other.take()).toEqual([
      'ERROR QUEUE_ERROR Server memory budget full: jobs hold 0 of 4 bytes (maxMemory, gmr server --max-memory); a job of 5 bytes is refused',
      'JOB_CREATED H:t:3',
    ]);
  });

  it('completeFrom: a WORK_COMPLETE read from its frame bytes reaches exactly its clients, once, in completion order; the rest is left to work()', () => {
    const { broker, connect } = setup();
    const [c1, s1] = connect();
    const [c2, s2] = connect();
    const [w, sw] = connect();
    const [w2, sw2] = connect();
    broker.registry.canDo(sw, 'f');
    broker.registry.canDo(sw2, 'f');
    for (const data of ['one', 'two', 'three', 'four']) broker.submit(s1, submit('f', data, `u-${data}`));
    broker.submit(s2, submit('f', 'ignored', 'u-two')); // coalesced onto H:t:2
    for (let i = 0; i < 4; i++) broker.grab(sw, 'GRAB_JOB_UNIQ');
    expect(w.take()).toHaveLength(4);
    c1.take();
    c2.take();
    // The body between other bytes, as it lies in a read chunk.
    const frame = (body: string): [Buffer, number, number] => {
      const bytes = Buffer.from(body, 'latin1');
      return [Buffer.concat([Buffer.from('\0RES:99\0'), bytes, Buffer.from('H:t:1\0x')]), 8, 8 + bytes.length];
    };
    const complete = (session: Session, body: string): boolean => broker.completeFrom(session, ...frame(body));
    expect(complete(sw, 'H:t:3\0three!')).toBe(true);
    expect(complete(sw, 'H:t:1\0one\0with NULs\0')).toBe(true);
    expect(complete(sw, 'H:t:2\0two!')).toBe(true);
    expect(c1.take()).toEqual(['WORK_COMPLETE H:t:3 [three!]', 'WORK_COMPLETE H:t:1 [one\0with NULs\0]', 'WORK_COMPLETE H:t:2 [two!]']);
    expect(c2.take()).toEqual(['WORK_COMPLETE H:t:2 [two!]']);
    // Left to the general path, with nothing sent and nothing changed: a duplicate, an unknown
    // handle, a job another worker runs, the short form without a NUL, a non-ASCII byte.
    expect(complete(sw, 'H:t:1\0again')).toBe(false);
    expect(complete(sw, 'H:t:77\0x')).toBe(false);
    expect(complete(sw2, 'H:t:4\0stolen')).toBe(false);
    expect(complete(sw, 'H:t:4')).toBe(false);
    expect(complete(sw, 'H:\u00e9:4\0x')).toBe(false);
    expect([c1, c2, w, w2].map((p) => p.take())).toEqual([[], [], [], []]);
    expect([...broker.admin.jobs()].map((j) => j.handle)).toEqual(['H:t:4']);
    // The general path answers the duplicate; the job still running ends once, with an empty result.
    broker.work(sw, { type: 'WORK_COMPLETE', handle: 'H:t:1', data: Buffer.from('again') });
    expect(w.take()).toEqual(['ERROR JOB_NOT_FOUND Job given in work result not found']);
    expect(complete(sw, 'H:t:4\0')).toBe(true);
    expect(complete(sw, 'H:t:4\0')).toBe(false);
    expect(c1.take()).toEqual(['WORK_COMPLETE H:t:4 []']);
    expect([...broker.admin.jobs()]).toEqual([]);
    expect(broker.running).toBe(0);
  });
});
