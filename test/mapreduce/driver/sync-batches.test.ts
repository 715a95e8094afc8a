/**
 * The driver's per-file calls in batches (issue 15): every item in order, and the event loop (the
 * embedded server) gets a turn between batches of 64; a throw stops at its item.
 */
import { describe, expect, it } from 'vitest';
import { BATCH, inBatches } from '../../../src/mapreduce/driver/sync-batches.ts';

describe('inBatches', () => {
  it('maps 500 items in order and lets other callbacks run between batches, not inside one', async () => {
    const calls: string[] = [];
    let turns = 0;
    const tick = (): void => {
      turns++;
      calls.push('turn');
      if (turns < 20) setImmediate(tick);
    };
    setImmediate(tick);
    const items = Array.from({ length: 500 }, (_, i) => i);
    const out = await inBatches(items, (i) => {
      calls.push(`item ${i}`);
      return i * 2;
    });
    expect(out).toEqual(items.map((i) => i * 2));
    // Between two turns at most one batch of items ran.
    let run = 0;
    let longest = 0;
    for (const c of calls) {
      run = c === 'turn' ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    expect(longest).toBe(BATCH);
    expect(calls.indexOf('turn')).toBeLessThan(calls.indexOf(`item ${BATCH + 1}`));
  });

  it('rejects with the first throw and calls nothing after it', async () => {
    const seen: number[] = [];
    const items = Array.from({ length: 200 }, (_, i) => i);
    await expect(
      inBatches(items, (i) => {
        seen.push(i);
        if (i === 70) throw new Error('item 70 failed');
      }),
    ).rejects.toThrow('item 70 failed');
    expect(seen.at(-1)).toBe(70);
  });
});
