/**
 * Conformance: the unique-key limit, against gearmand 1.1.20 and JobServer. One number,
 * MAX_UNIQUE_BYTES = 63, is what every gmr role enforces: gearmand keeps 63 bytes whole, cuts a
 * 64-byte unique to 63 (libgearman refuses 64 before sending), and refuses 65.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.ts';
import { MAX_UNIQUE_BYTES } from '../../src/protocol/limits.ts';
import { useTarget, TARGETS } from '../helpers/conformance.ts';

describe.each(TARGETS)('%s: unique length', (kind) => {
  const h = useTarget(kind);

  it('keeps a 63-byte unique whole and refuses 65 bytes with ARGUMENT_TOO_LARGE', async () => {
    expect(MAX_UNIQUE_BYTES).toBe(63);
    const fn = h.fn('uniq');
    const c = await h.open();
    await h.submit(c, 'SUBMIT_JOB_BG', fn, 'x', 'a'.repeat(63));
    expect((await h.admin('show unique jobs')).split('\n')).toContain('a'.repeat(63));
    c.send({ type: 'SUBMIT_JOB_BG', fn, unique: 'b'.repeat(65), data: Buffer.from('x') });
    const error = await c.expect('ERROR');
    expect([error.code, error.text]).toEqual(['ARGUMENT_TOO_LARGE', 'Unique value too large']);
  });

  it(`a 64-byte unique: ${kind === 'gearmand' ? 'stored cut to 63 bytes' : 'ARGUMENT_TOO_LARGE, never cut'}`, async () => {
    const fn = h.fn('uniq64');
    const c = await h.open();
    c.send({ type: 'SUBMIT_JOB_BG', fn, unique: `${'c'.repeat(63)}Z`, data: Buffer.from('x') });
    if (kind === 'gearmand') {
      await c.expect('JOB_CREATED');
      const lines = (await h.admin('show unique jobs')).split('\n');
      expect(lines).toContain('c'.repeat(63));
      expect(lines).not.toContain(`${'c'.repeat(63)}Z`);
    } else {
      const error = await c.expect('ERROR');
      expect([error.code, error.text]).toEqual(['ARGUMENT_TOO_LARGE', 'Unique value too large']);
    }
  });

  it('the Client refuses 64 bytes before sending, and 63 bytes reach the server whole', async () => {
    const fn = h.fn('uniqc');
    const client = new Client({ servers: [h.target.address] });
    try {
      await expect(client.submitBackground(fn, 'x', { unique: 'd'.repeat(64) })).rejects.toThrow('unique must be at most 63 bytes, received 64');
      await client.submitBackground(fn, 'x', { unique: 'd'.repeat(63) });
      expect((await h.admin('show unique jobs')).split('\n')).toContain('d'.repeat(63));
    } finally {
      await client.close();
    }
  });
});
