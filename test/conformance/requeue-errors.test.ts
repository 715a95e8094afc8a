/**
 * Conformance, part 2: requeues (worker gone, CANT_DO, RESET_ABILITIES, CAN_DO_TIMEOUT), job
 * retries, client departure, and the ERROR codes, against gearmand 1.1.20 and JobServer.
 */
import { describe, expect, it } from 'vitest';
import { useTarget, TARGETS } from '../helpers/conformance.ts';
import { show } from '../helpers/packet-socket.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe.each(TARGETS)('%s: requeues', (kind) => {
  const h = useTarget(kind);

  it('requeues a job whose worker disconnects: same handle to the next worker, retries+1, status reset, client not told', async () => {
    const fn = h.fn('requeue');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'work');
    const w1 = await h.worker([fn]);
    w1.send({ type: 'GRAB_JOB' });
    await w1.expect('JOB_ASSIGN');
    w1.send({ type: 'WORK_STATUS', handle, numerator: '1', denominator: '2' });
    await c.expect('WORK_STATUS');
    await w1.close();
    await waitFor(async () => (await h.statusRow(fn))?.split('\t')[2] === '0', 'the job to be requeued');
    c.send({ type: 'GET_STATUS', handle });
    expect(show(await c.expect('STATUS_RES'))).toEqual({ type: 'STATUS_RES', handle, known: '1', running: '0', numerator: '0', denominator: '0' });
    expect((await h.admin('show jobs')).split('\n')).toContain(`${handle}\t1\t0\t0`);
    const w2 = await h.worker([fn]);
    w2.send({ type: 'GRAB_JOB' });
    expect(show(await w2.expect('JOB_ASSIGN'))).toEqual({ type: 'JOB_ASSIGN', handle, fn, data: 'work' });
    w2.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('ok') });
    expect(show(await c.next())).toEqual({ type: 'WORK_COMPLETE', handle, data: 'ok' });
  });

  it('requeues on CANT_DO and on RESET_ABILITIES of the running function', async () => {
    const fn = h.fn('cantdo');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'x');
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    w.send({ type: 'CANT_DO', fn });
    await w.drain();
    expect((await h.admin('show jobs')).split('\n')).toContain(`${handle}\t1\t0\t1`);
    w.send({ type: 'CAN_DO', fn }, { type: 'GRAB_JOB' });
    expect((await w.expect('JOB_ASSIGN')).handle).toBe(handle);
    w.send({ type: 'RESET_ABILITIES' });
    await w.drain();
    expect((await h.admin('show jobs')).split('\n')).toContain(`${handle}\t2\t0\t1`);
    // The requeued job's WORK_COMPLETE from the old worker is refused.
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('late') });
    expect(show(await w.expect('ERROR'))).toEqual({ type: 'ERROR', code: 'JOB_NOT_FOUND', text: 'Job given in work result not found' });
  });

  it('CAN_DO_TIMEOUT: an overdue job is requeued, and the late WORK_COMPLETE gets JOB_NOT_FOUND', async () => {
    const fn = h.fn('timeout');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'slow');
    const w = await h.open();
    w.send({ type: 'CAN_DO_TIMEOUT', fn, timeout: '1000' }, { type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    await waitFor(async () => (await h.admin('show jobs')).split('\n').includes(`${handle}\t1\t0\t0`), 'the timeout requeue');
    w.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('late') });
    expect(show(await w.expect('ERROR'))).toMatchObject({ code: 'JOB_NOT_FOUND' });
    const w2 = await h.worker([fn]);
    w2.send({ type: 'GRAB_JOB' });
    expect((await w2.expect('JOB_ASSIGN')).handle).toBe(handle);
    w2.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('on time') });
    expect(show(await c.next())).toEqual({ type: 'WORK_COMPLETE', handle, data: 'on time' });
  });

  it('a queued foreground job whose clients all left: gearmand flags it IGNORE, JobServer drops it; the worker gets NO_JOB', async () => {
    const fn = h.fn('orphan');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'x');
    await c.close();
    const w = await h.worker([fn]);
    if (kind === 'gearmand') {
      await waitFor(async () => (await h.admin('show jobs')).split('\n').includes(`${handle}\t0\t1\t0`), 'the IGNORE flag');
      expect((await h.statusRow(fn))?.split('\t').slice(1)).toEqual(['1', '0', '1']);
    } else {
      await waitFor(async () => !(await h.admin('show jobs')).includes(`${handle}\t`), 'the job to be dropped');
      expect((await h.statusRow(fn))?.split('\t').slice(1)).toEqual(['0', '0', '1']);
    }
    w.send({ type: 'GRAB_JOB' });
    await w.expect('NO_JOB');
    expect((await h.statusRow(fn))?.split('\t').slice(1)).toEqual(['0', '0', '1']);
  });

  it('counts duplicate CAN_DOs as workers; CANT_DO removes them all', async () => {
    const fn = h.fn('dup');
    const w = await h.worker([fn, fn]);
    expect(await h.statusRow(fn)).toBe(`${fn}\t0\t0\t2`);
    w.send({ type: 'CANT_DO', fn });
    await w.drain();
    // gearmand keeps the record forever; JobServer forgets one nothing refers to (docs/SERVER.md).
    expect(await h.statusRow(fn)).toBe(kind === 'gearmand' ? `${fn}\t0\t0\t0` : undefined);
  });
});

describe.each(TARGETS)('%s: job retries = 2', (kind) => {
  const h = useTarget(kind, { jobRetries: 2 });

  it('fails the job with WORK_FAIL after the second worker death, and forgets it', async () => {
    const fn = h.fn('retries');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'doomed');
    for (let attempt = 1; attempt <= 2; attempt++) {
      const w = await h.worker([fn]);
      w.send({ type: 'GRAB_JOB' });
      expect((await w.expect('JOB_ASSIGN')).handle).toBe(handle);
      await w.close();
    }
    expect(show(await c.next())).toEqual({ type: 'WORK_FAIL', handle });
    c.send({ type: 'GET_STATUS', handle });
    expect(show(await c.expect('STATUS_RES'))).toMatchObject({ known: '0' });
  });
});

describe.each(TARGETS)('%s: errors', (kind) => {
  const h = useTarget(kind);

  it('answers a \\0RES packet with INVALID_MAGIC', async () => {
    const c = await h.open();
    c.sendRaw(Buffer.from([0, 0x52, 0x45, 0x53, 0, 0, 0, 16, 0, 0, 0, 1, 0x41]));
    expect(show(await c.next())).toEqual({ type: 'ERROR', code: 'INVALID_MAGIC', text: 'Request magic expected' });
  });

  it('answers packets a server does not take with INVALID_COMMAND "Command not expected", and carries on', async () => {
    const c = await h.open();
    c.send({ type: 'NOOP' }, { type: 'UNUSED' }, { type: 'ALL_YOURS' }, { type: 'JOB_CREATED', handle: 'H:x:1' });
    c.send({ type: 'SUBMIT_JOB_SCHED', fn: h.fn('sched'), unique: '', minute: '1', hour: '1', mday: '1', month: '1', wday: '1', data: Buffer.from('x') });
    const errors = (await c.drain()).map(show);
    expect(errors).toEqual(Array(5).fill({ type: 'ERROR', code: 'INVALID_COMMAND', text: 'Command not expected' }));
  });

  it('UNKNOWN_OPTION, ARGUMENT_TOO_LARGE for a 65-byte unique, JOB_NOT_FOUND for a foreign handle', async () => {
    const fn = h.fn('errs');
    const c = await h.open();
    c.send({ type: 'OPTION_REQ', option: 'nonsense' });
    expect(show(await c.next())).toEqual({ type: 'ERROR', code: 'UNKNOWN_OPTION', text: 'Server does not recognize given option' });
    c.send({ type: 'SUBMIT_JOB', fn, unique: 'u'.repeat(65), data: Buffer.from('x') });
    expect(show(await c.next())).toEqual({ type: 'ERROR', code: 'ARGUMENT_TOO_LARGE', text: 'Unique value too large' });
    const handle = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'x');
    const [owner, thief] = [await h.worker([fn]), await h.worker([fn])];
    owner.send({ type: 'GRAB_JOB' });
    await owner.expect('JOB_ASSIGN');
    thief.send({ type: 'WORK_COMPLETE', handle, data: Buffer.from('') }, { type: 'WORK_STATUS', handle: 'H:none:1', numerator: '1', denominator: '1' });
    expect((await thief.drain()).map(show)).toEqual(Array(2).fill({ type: 'ERROR', code: 'JOB_NOT_FOUND', text: 'Job given in work result not found' }));
  });

  it('maxqueue: QUEUE_ERROR "Job queue is full" for a new job, joining a unique still allowed', async () => {
    const fn = h.fn('maxq');
    const c = await h.open();
    const first = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'a', 'u1');
    expect(await h.admin(`maxqueue ${fn} 1`)).toBe('OK\r\n');
    c.send({ type: 'SUBMIT_JOB_BG', fn, unique: 'u2', data: Buffer.from('b') });
    expect(show(await c.next())).toEqual({ type: 'ERROR', code: 'QUEUE_ERROR', text: 'Job queue is full' });
    expect(await h.submit(c, 'SUBMIT_JOB', fn, 'c', 'u1')).toBe(first);
  });

  it('closes the connection on an unknown packet type; other connections carry on', async () => {
    const [bad, good] = [await h.open(), await h.open()];
    bad.sendRaw(Buffer.from([0, 0x52, 0x45, 0x51, 0, 0, 0, 43, 0, 0, 0, 0]));
    await bad.closed;
    // gearmand closes silently; JobServer says why first.
    expect(bad.received.map(show)).toEqual(kind === 'gearmand' ? [] : [{ type: 'ERROR', code: 'INVALID_COMMAND', text: 'Command not expected' }]);
    good.send({ type: 'ECHO_REQ', data: Buffer.from('still here') });
    expect((await good.expect('ECHO_RES')).data.toString()).toBe('still here');
  });
});
