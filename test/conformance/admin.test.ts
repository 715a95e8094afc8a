/**
 * Conformance, part 3: the admin text protocol, byte for byte (line endings included), against
 * gearmand 1.1.20 and JobServer. Rows are matched by function name or handle, since both servers
 * list in their own order.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTarget, TARGETS } from '../helpers/conformance.ts';
import { show } from '../helpers/packet-socket.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe.each(TARGETS)('%s: admin protocol', (kind) => {
  const h = useTarget(kind);

  it('status: FUNC TOTAL RUNNING WORKERS, TOTAL = queued + running, functions kept at 0 once seen', async () => {
    const fn = h.fn('status');
    const c = await h.open();
    const w = await h.worker([fn, fn]);
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'a');
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'b');
    await h.submit(c, 'SUBMIT_JOB_LOW_BG', fn, 'c');
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    const text = await h.admin('status');
    expect(text.endsWith('\n.\n')).toBe(true);
    expect(text.split('\n')).toContain(`${fn}\t3\t1\t2`);
    await w.close();
    await waitFor(async () => (await h.statusRow(fn)) === `${fn}\t3\t0\t0`, 'the worker to be gone');
  });

  it('prioritystatus: FUNC HIGH NORMAL LOW WORKERS, queued jobs only', async () => {
    const fn = h.fn('prio');
    const c = await h.open();
    await h.submit(c, 'SUBMIT_JOB_HIGH_BG', fn, 'h');
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'n1');
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'n2');
    await h.submit(c, 'SUBMIT_JOB_LOW', fn, 'l');
    const w = await h.worker([fn]);
    w.send({ type: 'GRAB_JOB' });
    await w.expect('JOB_ASSIGN');
    const text = await h.admin('prioritystatus');
    expect(text.endsWith('.\n')).toBe(true);
    expect(text.split('\n')).toContain(`${fn}\t0\t2\t1\t1`);
  });

  it('workers: every connection as "FD IP CLIENT_ID : fn…", newest registration first, "-" without an id', async () => {
    const [f1, f2] = [h.fn('w1'), h.fn('w2')];
    await h.worker([f1, f2, f1], 'worker-id');
    await h.open();
    const lines = (await h.admin('workers')).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe('.');
    expect(lines.filter((l) => / worker-id : /.test(l))).toEqual([expect.stringMatching(new RegExp(`^\\d+ 127\\.0\\.0\\.1 worker-id : ${f1} ${f2} ${f1}$`))]);
    // The plain client and the admin connection itself are listed too.
    expect(lines.filter((l) => /^\d+ 127\.0\.0\.1 - :$/.test(l)).length).toBeGreaterThanOrEqual(2);
  });

  it('show jobs / show unique jobs: HANDLE RETRIES IGNORE QUEUED, and one UNIQUE per job', async () => {
    const fn = h.fn('show');
    const c = await h.open();
    const bg = await h.submit(c, 'SUBMIT_JOB_BG', fn, 'x', `${fn}-bg`);
    const fg = await h.submit(c, 'SUBMIT_JOB', fn, 'y', `${fn}-fg`);
    const jobs = await h.admin('show jobs');
    expect(jobs.endsWith('.\n')).toBe(true);
    expect(jobs.split('\n')).toEqual(expect.arrayContaining([`${bg}\t0\t0\t1`, `${fg}\t0\t0\t0`]));
    expect((await h.admin('SHOW   UNIQUE   JOBS')).split('\n')).toEqual(expect.arrayContaining([`${fn}-bg`, `${fn}-fg`, '.']));
  });

  it('cancel job: OK and WORK_FAIL to the client; gearmand keeps it flagged IGNORE, JobServer forgets it', async () => {
    const fn = h.fn('cancel');
    const c = await h.open();
    const handle = await h.submit(c, 'SUBMIT_JOB', fn, 'x');
    expect(await h.admin(`cancel job ${handle}`)).toBe('OK\r\n');
    expect(show(await c.next())).toEqual({ type: 'WORK_FAIL', handle });
    const listed = (await h.admin('show jobs')).split('\n');
    if (kind === 'gearmand') expect(listed).toContain(`${handle}\t0\t1\t0`);
    else expect(listed.some((l) => l.startsWith(`${handle}\t`))).toBe(false);
    expect(await h.admin('cancel job H:nowhere:424242')).toBe('ERR UNKNOWN_JOB\r\n');
    expect(await h.admin('cancel job')).toBe('ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n');
  });

  it('maxqueue, create function (1.1.20 drops the last character; JobServer does not), drop function', async () => {
    const fn = h.fn('create');
    expect(await h.admin('maxqueue')).toBe('ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue\r\n');
    expect(await h.admin(`maxqueue ${fn}-missing 3`)).toBe('OK\r\n');
    expect(await h.admin(`create function ${fn}`)).toBe('OK\r\n');
    const created = kind === 'gearmand' ? fn.slice(0, -1) : fn;
    expect(await h.statusRow(created)).toBe(`${created}\t0\t0\t0`);
    expect(await h.admin(`drop function ${created}`)).toBe('OK\r\n');
    expect(await h.statusRow(created)).toBeUndefined();
    expect(await h.admin(`drop function ${created}`)).toBe('ERR function not found\r\n');
    const busy = h.fn('busy');
    await h.worker([busy]);
    expect(await h.admin(`drop function ${busy}`)).toBe('ERR there are still connected workers or executing clients\r\n');
    expect(await h.admin('create function')).toBe('ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+create\r\n');
  });

  it('getpid, verbose, version, and the ERR lines for unknown commands', async () => {
    expect(await h.admin('getpid')).toMatch(/^OK \d+\n$/);
    expect(await h.admin('verbose')).toBe('OK ERROR\n');
    expect(await h.admin('version')).toBe(kind === 'gearmand' ? 'OK 1.1.20+ds\n' : 'OK 1.1.20+gmr\n');
    expect(await h.admin('frobnicate now')).toBe('ERR UNKNOWN_COMMAND Unknown+server+commandfrobnicate\r\n');
    expect(await h.admin('')).toBe('ERR UNKNOWN_COMMAND Unknown+server+command\r\n');
    expect(await h.admin('show')).toBe('ERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n');
    expect(await h.admin('show foo')).toBe('ERR UNKNOWN_SHOW_ARGUMENTS\r\n');
  });

  it('shutdown: removed from gearmand 1.1.20 (ERR), "OK\\n" then closing on JobServer (tested in test/server)', async () => {
    if (kind === 'gearmand') expect(await h.admin('shutdown graceful')).toBe('ERR UNKNOWN_COMMAND Unknown+server+commandshutdown\r\n');
    else expect(await h.admin('shutdown nonsense')).toMatch(/^ERR INVALID_ARGUMENTS .*shutdown\r\n$/);
  });

  it('mixes binary packets and admin lines on one connection, answering in order', async () => {
    const socket = net.connect(h.target.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    const echo = (text: string): Buffer => {
      const data = Buffer.from(text);
      const header = Buffer.from([0, 0x52, 0x45, 0x51, 0, 0, 0, 16, 0, 0, 0, data.length]);
      return Buffer.concat([header, data]);
    };
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.concat([echo('one'), Buffer.from('getpid\r\n'), echo('two')]));
    const response = (text: string): Buffer => Buffer.concat([Buffer.from([0, 0x52, 0x45, 0x53, 0, 0, 0, 17, 0, 0, 0, text.length]), Buffer.from(text)]);
    await waitFor(() => received.length > 30 && received.subarray(received.length - 15).equals(response('two')), 'three answers');
    const text = received.subarray(15, received.length - 15).toString('latin1');
    socket.destroy();
    expect(received.subarray(0, 15)).toEqual(response('one'));
    expect(text).toMatch(/^OK \d+\n$/);
    expect(received.subarray(received.length - 15)).toEqual(response('two'));
  });
});
