/**
 * A turn's replies leave as one write when they fit (slab tails and by-reference payloads joined),
 * or corked when they are large: either way every byte arrives, in order, on a real socket.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../src/protocol/index.ts';
import { useJobServers } from '../helpers/job-servers.ts';

const { listen, open } = useJobServers();

/** Payload `i` of `size` bytes: its index in ASCII, then a byte pattern that shifts with i. */
function payload(i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let k = 0; k < size; k++) out[k] = (i * 7 + k) % 251;
  out.write(`#${i}:`, 0, 'latin1');
  return out;
}

async function echoBurst(sizes: number[]): Promise<void> {
  const server = await listen();
  const peer = await open(server);
  const sent = sizes.map((size, i) => payload(i, size));
  // One write of every request, so the server reads them in as few reads as the kernel allows
  // and answers a read's worth in one turn.
  peer.sendRaw(Buffer.concat(sent.map((data) => encodePacket({ type: 'ECHO_REQ', data }, 'REQ'))));
  for (const [i, data] of sent.entries()) {
    const reply = await peer.expect('ECHO_RES');
    if (!reply.data.equals(data)) throw new Error(`echo ${i} of ${sent.length} came back changed (${reply.data.length} bytes, sent ${data.length})`);
  }
  expect(peer.parseError).toBeUndefined();
  expect(await peer.drain()).toEqual([]);
}

describe('server write path', () => {
  it('small replies across several 16 KiB slabs (one joined write per turn)', async () => {
    await echoBurst(Array.from({ length: 900 }, (_, i) => 20 + (i % 37)));
  });

  it('slab text around a payload sent by reference (8 KiB and more), under the join limit', async () => {
    await echoBurst([40, 9000, 33]);
  });

  it('more chunks or bytes than the join takes (corked writes)', async () => {
    await echoBurst([40, 9000, 33, 8192, 17, 12_000, 5]);
    await echoBurst(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 20_000 : 50)));
  });
});
