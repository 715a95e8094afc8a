import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import type { InputFile } from '../../../src/mapreduce/driver/input-files.ts';
import { defaultSplitSize, describeSplit, planSplits } from '../../../src/mapreduce/driver/splits.ts';

const MiB = 1024 * 1024;

function file(path: string, size: number, compressed = false): InputFile {
  return { path, size, mtimeMs: 0, dev: 0, ino: 0, ctimeMs: 0, compressed };
}

describe('planSplits', () => {
  it('cuts each uncompressed file into consecutive ranges, the last one shorter', () => {
    const splits = planSplits([file('/in/a.txt', 25), file('/in/b.txt', 10), file('/in/c.txt', 7)], { splitSize: 10, workers: 2 });
    expect(splits).toEqual([
      { index: 0, path: '/in/a.txt', offset: 0, length: 10, compressed: false, fileSize: 25 },
      { index: 1, path: '/in/a.txt', offset: 10, length: 10, compressed: false, fileSize: 25 },
      { index: 2, path: '/in/a.txt', offset: 20, length: 5, compressed: false, fileSize: 25 },
      { index: 3, path: '/in/b.txt', offset: 0, length: 10, compressed: false, fileSize: 10 },
      { index: 4, path: '/in/c.txt', offset: 0, length: 7, compressed: false, fileSize: 7 },
    ]);
  });

  it('makes one split of a whole .gz file and none of an empty file', () => {
    const splits = planSplits([file('/in/a.gz', 95, true), file('/in/empty.txt', 0), file('/in/b.txt', 3)], { splitSize: 10, workers: 1 });
    expect(splits).toEqual([
      { index: 0, path: '/in/a.gz', offset: 0, length: 95, compressed: true, fileSize: 95 },
      { index: 1, path: '/in/b.txt', offset: 0, length: 3, compressed: false, fileSize: 3 },
    ]);
  });

  it('accepts a 1-byte split size', () => {
    const splits = planSplits([file('/in/a.txt', 4)], { splitSize: 1, workers: 8 });
    expect(splits.map((s) => [s.offset, s.length])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it('uses the default split size when none is given', () => {
    // 200 MiB over 2 workers: ceil(200 MiB / 4) = 50 MiB per split.
    const splits = planSplits([file('/in/big.txt', 200 * MiB)], { workers: 2 });
    expect(splits).toHaveLength(4);
    expect(splits.every((s) => s.length === 50 * MiB)).toBe(true);
    expect(planSplits([file('/in/small.txt', 3 * MiB + 1)], { workers: 4 }).map((s) => s.length)).toEqual([MiB, MiB, MiB, 1]);
  });

  it('rejects a split size that is not a positive integer', () => {
    for (const splitSize of [0, -1, 1.5, Number.NaN]) {
      expect(() => planSplits([file('/in/a.txt', 4)], { splitSize, workers: 1 })).toThrow(UsageError);
    }
  });

  it('returns no split for no files', () => {
    expect(planSplits([], { workers: 3 })).toEqual([]);
  });
});

describe('defaultSplitSize', () => {
  it('aims at 2 splits per worker for large inputs', () => {
    expect(defaultSplitSize(400 * MiB, 5)).toBe(40 * MiB);
    expect(defaultSplitSize(40 * MiB + 1, 1)).toBe(20 * MiB + 1);
  });

  it('cuts a small input into no more splits than workers, and none under 1 MiB', () => {
    expect(defaultSplitSize(60 * MiB, 5)).toBe(8 * MiB); // 2 per worker would be 6 MiB each
    expect(defaultSplitSize(10 * MiB, 2)).toBe(5 * MiB);
    expect(defaultSplitSize(4 * MiB - 1, 1)).toBe(4 * MiB - 1);
    expect(defaultSplitSize(3 * MiB, 4)).toBe(MiB);
  });

  it('stays between 1 MiB and 64 MiB', () => {
    expect(defaultSplitSize(0, 1)).toBe(MiB);
    expect(defaultSplitSize(10, 4)).toBe(MiB);
    expect(defaultSplitSize(256 * MiB, 1)).toBe(64 * MiB);
    expect(defaultSplitSize(10_000 * MiB, 1)).toBe(64 * MiB);
  });

  it('gives a combining job one split per worker, up to 128 MiB', () => {
    expect(defaultSplitSize(240 * MiB, 2, { combines: true })).toBe(120 * MiB);
    expect(defaultSplitSize(240 * MiB, 2, { combines: false })).toBe(60 * MiB);
    expect(defaultSplitSize(400 * MiB, 5, { combines: true })).toBe(80 * MiB);
    expect(defaultSplitSize(1000 * MiB, 2, { combines: true })).toBe(128 * MiB);
    // Small inputs: the same floor as any job (no split under 1 MiB, no more splits than workers).
    expect(defaultSplitSize(10 * MiB, 2, { combines: true })).toBe(5 * MiB);
    expect(defaultSplitSize(10, 4, { combines: true })).toBe(MiB);
  });

  it('rejects a worker count below 1', () => {
    expect(() => defaultSplitSize(10, 0)).toThrow(UsageError);
  });
});

describe('describeSplit', () => {
  it('formats path@offset+length', () => {
    expect(describeSplit({ path: '/in/a.txt', offset: 1048576, length: 512 })).toBe('/in/a.txt@1048576+512');
  });
});
