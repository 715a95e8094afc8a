/** Server choice is pure logic; the hash is checked against Perl Gearman::Task's own code. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { crc32, hashKey, ServerRing, uniqueHash } from '../../src/client/server-ring.ts';

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32('123456789')).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    expect(crc32('')).toBe(0);
    expect(crc32(Buffer.from([0, 0, 0, 0]))).toBe(0x2144df1c);
  });
});

describe('uniqueHash', () => {
  it('equals Perl Gearman::Task->hash for the same unique (and the payload for "-")', () => {
    const uniques = ['abc', 'key-1', 'wordcount:part-00007', 'ü-unicode', 'x'.repeat(63)];
    const script = `
      use Gearman::Task;
      for my $u (@ARGV) { print Gearman::Task->new("f", \\"the payload", { uniq => $u })->hash, "\\n" }`;
    const perl = spawnSync('perl', ['-CA', '-e', script, ...uniques, '-'], { encoding: 'utf8' });
    expect(perl.status, perl.stderr).toBe(0);
    const perlHashes = perl.stdout.trim().split('\n').map(Number);
    const ours = [...uniques.map((u) => uniqueHash(u)), uniqueHash(hashKey('-', Buffer.from('the payload')))];
    expect(ours).toEqual(perlHashes);
  });
});

describe('ServerRing', () => {
  it('starts at hash mod N and continues around the ring for failover', () => {
    const ring = new ServerRing(3);
    const start = uniqueHash('abc') % 3;
    expect(ring.order('abc')).toEqual([start, (start + 1) % 3, (start + 2) % 3]);
    expect(ring.order('abc')).toEqual(ring.order('abc')); // stable
  });

  it('goes round-robin without a key', () => {
    const ring = new ServerRing(3);
    expect([ring.order()[0], ring.order('')[0], ring.order()[0], ring.order()[0]]).toEqual([0, 1, 2, 0]);
  });

  it('spreads keys over every server', () => {
    const ring = new ServerRing(4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) counts[ring.indexFor(`key-${i}`)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(50);
  });

  it('refuses an empty ring', () => {
    expect(() => new ServerRing(0)).toThrow('ServerRing needs at least 1 server, received 0');
  });
});
