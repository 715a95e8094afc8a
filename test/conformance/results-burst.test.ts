/**
 * Conformance: a worker's results in bursts, as they arrive at many jobs in flight (one write of
 * dozens of WORK_COMPLETEs, a duplicate and a stranger's handle among them, a frame split across
 * reads), against a real gearmand 1.1.20 and against JobServer: every client gets exactly the
 * results of its own jobs, once each, in the order the worker sent them, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../src/protocol/index.ts';
import { useTarget, TARGETS } from '../helpers/conformance.ts';
import { show, type PacketSocket } from '../helpers/packet-socket.ts';

const JOBS = 60;

/** Result bytes of job `i`: its name, NULs and bytes above 0x7f, so nothing is read as text. */
function result(i: number): Buffer {
  return Buffer.concat([Buffer.from(`result-${i}`), Buffer.from([0, 0xff, i & 0xff, 0, 0x80 + (i % 100)])]);
}

describe.each(TARGETS)('%s: bursts of results', (kind) => {
  const h = useTarget(kind);

  it('WORK_COMPLETEs in one write, shuffled, with a duplicate, an unknown handle and a frame split across reads', async () => {
    const fn = h.fn('burst');
    const w = await h.worker([fn]);
    const clients = [await h.open(), await h.open()] as [PacketSocket, PacketSocket];
    // Job i belongs to client i % 2; the last job is one unique submitted by both (both attached).
    const owners = new Map<string, number[]>();
    const handles: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const handle = await h.submit(clients[i % 2] as PacketSocket, 'SUBMIT_JOB', fn, `job-${i}`);
      handles.push(handle);
      owners.set(handle, [i % 2]);
    }
    const shared = await h.submit(clients[0], 'SUBMIT_JOB', fn, 'job-shared', 'shared');
    expect(await h.submit(clients[1], 'SUBMIT_JOB', fn, 'other payload', 'shared')).toBe(shared);
    handles.push(shared);
    owners.set(shared, [0, 1]);
    w.send(...Array.from({ length: handles.length }, () => ({ type: 'GRAB_JOB_UNIQ' as const })));
    const assigned = [];
    for (let i = 0; i < handles.length; i++) assigned.push((await w.expect('JOB_ASSIGN_UNIQ')).handle);
    expect(new Set(assigned)).toEqual(new Set(handles));

    // Completion order: a fixed shuffle (37 is prime to 61), not the order of the assignments.
    const order = Array.from({ length: handles.length }, (_, k) => (k * 37) % handles.length);
    const frames: Buffer[] = [];
    for (const [k, index] of order.entries()) {
      frames.push(encodePacket({ type: 'WORK_COMPLETE', handle: handles[index] as string, data: result(index) }, 'REQ'));
      if (k === 10) frames.push(frames[frames.length - 1] as Buffer); // the same result again
      if (k === 20) frames.push(encodePacket({ type: 'WORK_COMPLETE', handle: 'H:nowhere:1', data: Buffer.from('x') }, 'REQ'));
    }
    const bytes = Buffer.concat(frames);
    // Split inside a frame's handle, so the server reads that frame in two parts.
    const cut = frames.slice(0, 30).reduce((n, f) => n + f.length, 0) + 15;
    w.sendRaw(bytes.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 100));
    w.sendRaw(bytes.subarray(cut));

    for (const [c, client] of clients.entries()) {
      const expected = order
        .filter((index) => owners.get(handles[index] as string)?.includes(c))
        .map((index) => ({ type: 'WORK_COMPLETE', handle: handles[index] as string, data: result(index).toString('latin1') }));
      const got = [];
      for (let n = 0; n < expected.length; n++) {
        const packet = await client.expect('WORK_COMPLETE');
        got.push({ type: packet.type, handle: packet.handle, data: packet.data.toString('latin1') });
      }
      expect(got).toEqual(expected);
      expect(await client.drain()).toEqual([]);
    }
    const error = { type: 'ERROR', code: 'JOB_NOT_FOUND', text: 'Job given in work result not found' };
    expect((await w.drain()).map(show)).toEqual([error, error]);
    expect((await h.statusRow(fn))?.split('\t').slice(1)).toEqual(['0', '0', '1']);
  });

  it('SUBMIT_JOBs in one write, payloads of every size around the copy limits, reach the worker intact and in order', async () => {
    const fn = h.fn('submits');
    const w = await h.worker([fn]);
    const c = await h.open();
    const sizes = [0, 1, 31, 32, 63, 64, 65, 200, 4095, 4096, 4097, 9000, 32, 0, 70_000, 5];
    const payloads = sizes.map((size, i) => Buffer.from(Array.from({ length: size }, (_, k) => (k * 31 + i * 7) % 256)));
    c.sendRaw(Buffer.concat(payloads.map((data, i) => encodePacket({ type: 'SUBMIT_JOB', fn, unique: `s${i}`, data }, 'REQ'))));
    const handles = [];
    for (let i = 0; i < payloads.length; i++) handles.push((await c.expect('JOB_CREATED')).handle);
    expect(new Set(handles).size).toBe(payloads.length);
    w.send(...payloads.map(() => ({ type: 'GRAB_JOB_UNIQ' as const })));
    for (const [i, data] of payloads.entries()) {
      const assign = await w.expect('JOB_ASSIGN_UNIQ');
      expect({ handle: assign.handle, unique: assign.unique, size: assign.data.length }).toEqual({ handle: handles[i], unique: `s${i}`, size: data.length });
      expect(assign.data.equals(data), `payload ${i} (${data.length} bytes)`).toBe(true);
    }
    expect(await w.drain()).toEqual([]);
  });
});
