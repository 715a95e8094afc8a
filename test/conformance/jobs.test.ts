/**
 * Conformance, part 1: the life of a job, against a real gearmand 1.1.20 and against JobServer,
 * with the same raw packets. Where JobServer differs on purpose, the test asserts each side's
 * behaviour and docs/SERVER.md lists the difference.
 */
import { describe, expect, it } from 'vitest';
import { useTarget, TARGETS } from '../helpers/conformance.ts';
import { show } from '../helpers/packet-socket.ts';
import { normaliseHandle } from '../helpers/server-target.ts';

describe.each(TARGETS)('%s: jobs', (kind) => {
  const h = useTarget(kind);

  it('answers ECHO_REQ with the same bytes, NULs included', async () => {
    const c = await h.open();
    const data = Buffer.from([0, 1, 2, 0, 0, 255, 0x52]);
    c.send({ type: 'ECHO_REQ', data });
    expect((await c.expect('ECHO_RES')).data).toEqual(data);
  });

  it('runs a foreground job: JOB_CREATED, JOB_ASSIGN, and every WORK_* packet forwarded in order', async () => {
    const fn = h.fn('basic');
    const w = await h.worker([fn]);
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'pay\0load');
    expect(handle).toMatch(/^H:[^:]+:\d+$/);
    w.send({ type: 'GRAB_JOB' });
    const assign = await w.expect('JOB_ASSIGN');
    expect(show(assign)).toEqual({ type: 'JOB_ASSIGN', handle, fn, data: 'pay\0load' });
    w.send(
      { type: 'WORK_STATUS', handle, numerator: '1', denominator: '4' },
      { type: 'WORK_DATA', handle, data: Buffer.from('d\0') },
      { type: 'WORK_WARNING', handle, data: Buffer.from('careful') },
      { type: 'WORK_COMPLETE', handle, data: Buffer.from('done') },
    );
    const got = [await c.next(), await c.next(), await c.next(), await c.next()].map(show);
    expect(got).toEqual([
      { type: 'WORK_STATUS', handle, numerator: '1', denominator: '4' },
      { type: 'WORK_DATA', handle, data: 'd\0' },
      { type: 'WORK_WARNING', handle, data: 'careful' },
      { type: 'WORK_COMPLETE', handle, data: 'done' },
    ]);
  });

  it('answers GRAB_JOB with NO_JOB when nothing is queued, and GRAB_JOB_UNIQ with JOB_ASSIGN_UNIQ', async () => {
    const fn = h.fn('uniq');
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('NO_JOB');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'x', 'my-unique');
    w.send({ type: 'GRAB_JOB_UNIQ' });
    expect(show(await w.expect('JOB_ASSIGN_UNIQ'))).toEqual({ type: 'JOB_ASSIGN_UNIQ', handle, fn, unique: 'my-unique', data: 'x' });
  });

  it('GRAB_JOB_ALL: JOB_ASSIGN_ALL with the reducer for a reduce job, JOB_ASSIGN_UNIQ otherwise; GRAB_JOB drops the reducer', async () => {
    const fn = h.fn('all');
    const w = await h.worker([fn]);
    const c = await h.open();
    c.send({ type: 'SUBMIT_REDUCE_JOB', fn, unique: 'r1', reducer: 'count', aggregator: '', data: Buffer.from('m1') });
    const reduceHandle = (await c.expect('JOB_CREATED')).handle;
    const plainHandle = await h.submit(c, 'SUBMIT_JOB', fn, 'p1', 'p1');
    c.send({ type: 'SUBMIT_REDUCE_JOB_BACKGROUND', fn, unique: 'r2', reducer: 'sum', aggregator: '', data: Buffer.from('m2') });
    const bgReduce = (await c.expect('JOB_CREATED')).handle;
    w.send({ type: 'GRAB_JOB_ALL' }, { type: 'GRAB_JOB_ALL' }, { type: 'GRAB_JOB' });
    expect(show(await w.next())).toEqual({ type: 'JOB_ASSIGN_ALL', handle: reduceHandle, fn, unique: 'r1', reducer: 'count', data: 'm1' });
    expect(show(await w.next())).toEqual({ type: 'JOB_ASSIGN_UNIQ', handle: plainHandle, fn, unique: 'p1', data: 'p1' });
    expect(show(await w.next())).toEqual({ type: 'JOB_ASSIGN', handle: bgReduce, fn, data: 'm2' });
  });

  it('lets one worker connection hold several jobs and finish them in any order', async () => {
    const fn = h.fn('several');
    const w = await h.worker([fn]);
    const c = await h.open();
    const h1 = await h.submit(c, 'SUBMIT_JOB', fn, 'one');
    const h2 = await h.submit(c, 'SUBMIT_JOB', fn, 'two');
    w.send({ type: 'GRAB_JOB' }, { type: 'GRAB_JOB' });
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(h1);
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(h2);
    expect((await h.statusRow(fn))?.split('\t').slice(1)).toEqual(['2', '2', '1']);
    w.send({ type: 'WORK_COMPLETE', handle: h2, data: Buffer.from('2') }, { type: 'WORK_COMPLETE', handle: h1, data: Buffer.from('1') });
    expect([await c.next(), await c.next()].map(show)).toEqual([
      { type: 'WORK_COMPLETE', handle: h2, data: '2' },
      { type: 'WORK_COMPLETE', handle: h1, data: '1' },
    ]);
  });

  it('PRE_SLEEP: one NOOP per sleep when work arrives, an immediate NOOP when work is already waiting', async () => {
    const fn = h.fn('sleep');
    const w = await h.worker([fn]);
    w.send({ type: 'PRE_SLEEP' });
    expect(await w.drain()).toEqual([]);
    const c = await h.open();
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'a');
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'b');
    expect((await w.drain()).map((p) => p.type)).toEqual(['NOOP']);
    // Work is waiting: PRE_SLEEP is answered at once.
    w.send({ type: 'PRE_SLEEP' });
    expect((await w.drain()).map((p) => p.type)).toEqual(['NOOP']);
    // A worker that never sleeps gets no NOOP.
    const busy = await h.worker([fn]);
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'c');
    expect(await busy.drain()).toEqual([]);
  });

  it('serves one function HIGH, then NORMAL, then LOW, each FIFO', async () => {
    const fn = h.fn('prio');
    const c = await h.open();
    const low = await h.submit(c, 'SUBMIT_JOB_LOW_BG', fn, 'low');
    const n1 = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'n1');
    const high = await h.submit(c, 'SUBMIT_JOB_HIGH', fn, 'high');
    const n2 = await h.submit(c, 'SUBMIT_JOB', fn, 'n2');
    const w = await h.worker([fn]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      w.send({ type: 'GRAB_JOB' });
      order.push((await w.expect('JOB_ASSIGN')).handle);
    }
    expect(order).toEqual([high, n1, n2, low]);
  });

  it('grab order across functions: gearmand 1.1.20 newest CAN_DO first, JobServer global priority round-robin', async () => {
    const [f1, f2, f3] = [h.fn('g1'), h.fn('g2'), h.fn('g3')];
    const c = await h.open();
    const name = new Map<string, string>();
    const add = async (type: 'SUBMIT_JOB_HIGH_BG' | 'SUBMIT_JOB_BG' | 'SUBMIT_JOB_LOW_BG', fn: string, label: string): Promise<void> => {
      name.set(await h.submit(c, type, fn, label), label);
    };
    await add('SUBMIT_JOB_HIGH_BG', f1, 'f1-high');
    await add('SUBMIT_JOB_BG', f1, 'f1-normal');
    await add('SUBMIT_JOB_BG', f2, 'f2-normal');
    await add('SUBMIT_JOB_LOW_BG', f2, 'f2-low');
    await add('SUBMIT_JOB_BG', f3, 'f3-normal');
    const w = await h.worker([f1, f2, f3]);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      w.send({ type: 'GRAB_JOB' });
      order.push(name.get((await w.expect('JOB_ASSIGN')).handle) ?? '?');
    }
    if (kind === 'gearmand') expect(order).toEqual(['f3-normal', 'f2-normal', 'f2-low', 'f1-high', 'f1-normal']);
    else expect(order).toEqual(['f1-high', 'f3-normal', 'f2-normal', 'f1-normal', 'f2-low']);
  });

  it('coalesces on (function, unique): same handle, first payload wins, every foreground submitter gets every packet', async () => {
    const fn = h.fn('coalesce');
    const other = h.fn('coalesce-other');
    const [c1, c2, c3] = [await h.open(), await h.open(), await h.open()];
    const handle = await h.submit(c1, 'SUBMIT_JOB', fn, 'first', 'key');
    expect(await h.submit(c2, 'SUBMIT_JOB_HIGH', fn, 'second', 'key')).toBe(handle);
    expect(await h.submit(c1, 'SUBMIT_JOB_BG', other, 'x', 'key')).not.toBe(handle);
    expect(await h.submit(c1, 'SUBMIT_JOB', fn, 'first')).not.toBe(handle); // empty unique never coalesces
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB_UNIQ' });
    expect(show(await w.expect('JOB_ASSIGN_UNIQ'))).toEqual({ type: 'JOB_ASSIGN_UNIQ', handle, fn, unique: 'key', data: 'first' });
    w.send({ type: 'WORK_DATA', handle, data: Buffer.from('chunk') });
    expect(show(await c2.expect('WORK_DATA'))).toEqual({ type: 'WORK_DATA', handle, data: 'chunk' });
    // A client joining a running job is attached too.
    expect(await h.submit(c3, 'SUBMIT_JOB', fn, 'late', 'key')).toBe(handle);
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('R') });
    expect([await c1.next(), await c1.next()].map(show)).toEqual([
      { type: 'WORK_DATA', handle, data: 'chunk' },
      { type: 'WORK_COMPLETE', handle, data: 'R' },
    ]);
    expect(show(await c2.expect('WORK_COMPLETE'))).toEqual({ type: 'WORK_COMPLETE', handle, data: 'R' });
    expect(show(await c3.expect('WORK_COMPLETE'))).toEqual({ type: 'WORK_COMPLETE', handle, data: 'R' });
    // Finished: the unique is free again.
    expect(await h.submit(c1, 'SUBMIT_JOB_BG', fn, 'again', 'key')).not.toBe(handle);
  });

  it("coalesces unique '-' on the payload bytes, and sends a twice-submitting connection every packet twice", async () => {
    const fn = h.fn('dash');
    const c = await h.open();
    const a = await h.submit(c, 'SUBMIT_JOB', fn, 'same', '-');
    expect(await h.submit(c, 'SUBMIT_JOB', fn, 'same', '-')).toBe(a);
    expect(await h.submit(c, 'SUBMIT_JOB_BG', fn, 'other', '-')).not.toBe(a);
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB_UNIQ' });
    expect(show(await w.expect('JOB_ASSIGN_UNIQ'))).toEqual({ type: 'JOB_ASSIGN_UNIQ', handle: a, fn, unique: '-', data: 'same' });
    w.send({ type: 'WORK_COMPLETE', handle: a, data: Buffer.from('ok') });
    expect((await c.drain()).map((p) => p.type)).toEqual(['WORK_COMPLETE', 'WORK_COMPLETE']);
  });

  it('background jobs: JOB_CREATED only, status kept for GET_STATUS, nothing forwarded', async () => {
    const fn = h.fn('bg');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'bg');
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_STATUS', handle, numerator: '3', denominator: '7' }, { type: 'WORK_DATA', handle, data: Buffer.from('x') });
    c.send({ type: 'GET_STATUS', handle });
    expect(show(await c.expect('STATUS_RES'))).toEqual({ type: 'STATUS_RES', handle, known: '1', running: '1', numerator: '3', denominator: '7' });
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('') });
    await w.drain();
    expect(await c.drain()).toEqual([]);
  });

  it('GET_STATUS: zeros when unknown, known and not running when queued, forgotten when finished', async () => {
    const fn = h.fn('status');
    const c = await h.open();
    c.send({ type: 'GET_STATUS', handle: 'H:nowhere:999999' });
    expect(show(await c.expect('STATUS_RES'))).toEqual({ type: 'STATUS_RES', handle: 'H:nowhere:999999', known: '0', running: '0', numerator: '0', denominator: '0' });
    const handle = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'q');
    c.send({ type: 'GET_STATUS', handle });
    expect(show(await c.expect('STATUS_RES'))).toMatchObject({ known: '1', running: '0', numerator: '0', denominator: '0' });
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_FAIL', handle });
    await w.drain();
    c.send({ type: 'GET_STATUS', handle });
    expect(show(await c.expect('STATUS_RES'))).toMatchObject({ known: '0', running: '0' });
  });

  it('GET_STATUS_UNIQUE: zeros when unknown, the attached client count when known', async () => {
    const fn = h.fn('su');
    const [c1, c2] = [await h.open(), await h.open()];
    const unique = `${fn}-u`;
    c1.send({ type: 'GET_STATUS_UNIQUE', unique });
    expect(show(await c1.expect('STATUS_RES_UNIQUE'))).toEqual({ type: 'STATUS_RES_UNIQUE', unique, known: '0', running: '0', numerator: '0', denominator: '0', clientCount: '0' });
    const handle = await h.submit(c1, 'SUBMIT_JOB', fn, 'x', unique);
    await h.submit(c2, 'SUBMIT_JOB', fn, 'x', unique);
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_STATUS', handle, numerator: '5', denominator: '10' });
    await c1.expect('WORK_STATUS');
    c1.send({ type: 'GET_STATUS_UNIQUE', unique });
    expect(show(await c1.expect('STATUS_RES_UNIQUE'))).toEqual({ type: 'STATUS_RES_UNIQUE', unique, known: '1', running: '1', numerator: '5', denominator: '10', clientCount: '2' });
  });

  it('WORK_EXCEPTION: forwarded to clients with OPTION_REQ exceptions, WORK_FAIL to the others', async () => {
    const fn = h.fn('exc');
    const [plain, opted] = [await h.open(), await h.open()];
    opted.send({ type: 'OPTION_REQ', option: 'Exceptions' });
    expect(show(await opted.expect('OPTION_RES'))).toEqual({ type: 'OPTION_RES', option: 'Exceptions' });
    const handle = await h.submit(plain, 'SUBMIT_JOB', fn, 'x', `${fn}-u`);
    await h.submit(opted, 'SUBMIT_JOB', fn, 'x', `${fn}-u`);
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    w.send({ type: 'WORK_EXCEPTION', handle, data: Buffer.from('boom') });
    expect(show(await opted.expect('WORK_EXCEPTION'))).toEqual({ type: 'WORK_EXCEPTION', handle, data: 'boom' });
    const fail = await plain.expect('WORK_FAIL');
    // gearmand 1.1.20 sends the handle with a stray trailing NUL; JobServer does not.
    expect(fail.handle).toBe(kind === 'gearmand' ? `${handle}\0` : handle);
    expect(await plain.drain()).toEqual([]);
    expect(await opted.drain()).toEqual([]);
  });

  it('SUBMIT_JOB_EPOCH: a past epoch runs at once; a future one wakes sleeping workers only on JobServer', async () => {
    const fn = h.fn('epoch');
    const c = await h.open();
    c.send({ type: 'SUBMIT_JOB_EPOCH', fn, unique: '', epoch: '1000', data: Buffer.from('past') });
    const past = (await c.expect('JOB_CREATED')).handle;
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(past);
    w.send({ type: 'WORK_COMPLETE', handle: past, data: Buffer.from('') }, { type: 'PRE_SLEEP' });
    expect(await w.drain()).toEqual([]);
    const due = Math.floor(Date.now() / 1000) + 2;
    c.send({ type: 'SUBMIT_JOB_EPOCH', fn, unique: '', epoch: String(due), data: Buffer.from('future') });
    const future = (await c.expect('JOB_CREATED')).handle;
    if (kind === 'gearmand') {
      // 1.1.x wakes sleepers at submit; the job is not runnable yet and no timer wakes them later.
      expect((await w.drain()).map((p) => p.type)).toEqual(['NOOP']);
      w.send({ type: 'GRAB_JOB' });
      await w.expect('NO_JOB');
      w.send({ type: 'PRE_SLEEP' });
      while (Date.now() < due * 1000 + 1500) await new Promise((r) => setTimeout(r, 100));
      expect(await w.drain()).toEqual([]);
    } else {
      expect(await w.drain()).toEqual([]);
      await w.expect('NOOP');
    }
    w.send({ type: 'GRAB_JOB' });
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(future);
  });
});
