/**
 * input-guard.ts runReadBuffer: a reduce task's runs share a 64 MiB read budget, 16 KiB to 1 MiB
 * each (references worked out by hand: 64 MiB / 128 = 512 KiB, 67,108,864 / 2,500 = 26,843.4).
 */
import { describe, expect, it } from 'vitest';
import { runReadBuffer } from '../../../src/mapreduce/task/input-guard.ts';

describe('runReadBuffer', () => {
  it('gives each run 1 MiB up to 64 runs, a share of 64 MiB beyond, and never under 16 KiB', () => {
    expect([0, 1, 64, 128, 2500, 4096, 10_000].map(runReadBuffer)).toEqual([1_048_576, 1_048_576, 1_048_576, 524_288, 26_843, 16_384, 16_384]);
  });
});
