/**
 * Cuts input files into splits: byte ranges that map tasks read. Cuts ignore line boundaries;
 * the record reader aligns them to lines (see shuffle/split.ts), so any split size is correct.
 */

import { UsageError } from '../../errors.ts';
import type { Split } from '../shuffle/split.ts';
import type { InputFile } from './input-files.ts';

export type { Split } from '../shuffle/split.ts';

export interface SplitPlanOptions {
  /** Bytes per split; any integer >= 1. Default: defaultSplitSize(total input bytes, workers). */
  splitSize?: number;
  workers: number;
  /**
   * Group whole files no larger than the split size into map tasks of about the split size
   * (consecutive files in path order, balanced; a larger file ends the group). Default false.
   */
  groupSmallFiles?: boolean;
}

export const MIN_DEFAULT_SPLIT_SIZE = 1024 * 1024;
export const MAX_DEFAULT_SPLIT_SIZE = 64 * 1024 * 1024;
/** The cap for a combining job's splits: Hadoop's default block size. */
export const MAX_COMBINING_SPLIT_SIZE = 128 * 1024 * 1024;
/**
 * Below this a split is not cut just to reach the splits per worker: every map task of a combinable
 * job re-emits the split's whole vocabulary and costs a task's round trips, so many tiny tasks
 * cost more than an idle worker (the map path reads about 100 MB/s per core: 8 MiB is ~0.1 s).
 */
export const SMALL_SPLIT_SIZE = 8 * 1024 * 1024;
/**
 * Aim for this many splits per worker: more than one, so a slow split does not hold up the whole
 * map phase, and few, since each map task re-emits its vocabulary. Brown x24 (239 MB), 2 workers,
 * 4 alternating pairs on a quiet machine: 4 per worker (30 MB splits) 3.55-4.37 s wall and
 * 6.6-8.3 CPU-s, 2 per worker (60 MB) 3.41-3.57 s and 6.4-6.6 CPU-s.
 */
const SPLITS_PER_WORKER = 2;
/**
 * A job with a combiner gets one split per worker (up to MAX_COMBINING_SPLIT_SIZE): each extra map
 * task builds its table again and re-emits, sorts and writes the whole vocabulary. Brown x24,
 * 2 workers, 3 alternating rounds on a quiet machine: 2 per worker 3.60 s wall and 6.33 CPU-s,
 * 1 per worker 3.26 s and 5.93 CPU-s (docs/BENCHMARKS.md, fourth series).
 */
const COMBINING_SPLITS_PER_WORKER = 1;

export interface DefaultSplitOptions {
  /** The job's first step has a combiner: fewer, larger splits (see COMBINING_SPLITS_PER_WORKER). */
  combines?: boolean;
}

/**
 * clamp(ceil(totalBytes / (n * workers)), floor, cap), where floor = clamp(ceil(totalBytes /
 * workers), 1 MiB, 8 MiB), n is 2 splits per worker (1 for a combining job) and cap 64 MiB
 * (128 MiB for a combining job): large inputs get about n splits per worker; small ones as few
 * splits as keep every worker busy, none under 1 MiB.
 */
export function defaultSplitSize(totalBytes: number, workers: number, options: DefaultSplitOptions = {}): number {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UsageError(`workers must be an integer >= 1; received ${workers}`);
  }
  const perWorker = options.combines ? COMBINING_SPLITS_PER_WORKER : SPLITS_PER_WORKER;
  const cap = options.combines ? MAX_COMBINING_SPLIT_SIZE : MAX_DEFAULT_SPLIT_SIZE;
  const even = Math.ceil(totalBytes / (perWorker * workers));
  const floor = Math.min(SMALL_SPLIT_SIZE, Math.max(MIN_DEFAULT_SPLIT_SIZE, Math.ceil(totalBytes / workers)));
  return Math.min(cap, Math.max(floor, even));
}

/**
 * Uncompressed files are cut into consecutive ranges of splitSize bytes (the last one shorter);
 * a 0-byte file gives no split; a compressed file is one split covering the whole file, since
 * gzip cannot be entered in the middle. With groupSmallFiles, consecutive files that each fit in
 * a split share one (balancedGroups): 500 files of 20 kB are as many tasks as their bytes in one
 * file would be, not 500.
 */
export function planSplits(files: InputFile[], options: SplitPlanOptions): Split[] {
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const splitSize = options.splitSize ?? defaultSplitSize(totalBytes, options.workers);
  if (!Number.isSafeInteger(splitSize) || splitSize < 1) {
    throw new UsageError(`splitSize must be an integer >= 1; received ${splitSize}`);
  }
  const splits: Split[] = [];
  const add = (file: InputFile, offset: number, length: number): void => {
    splits.push({ index: splits.length, path: file.path, offset, length, compressed: file.compressed, fileSize: file.size });
  };
  let run: InputFile[] = [];
  const closeRun = (): void => {
    for (const group of balancedGroups(run, splitSize)) {
      const first = group[0] as InputFile;
      if (group.length === 1) {
        add(first, 0, first.size);
        continue;
      }
      const whole = group.map((f) => ({ path: f.path, offset: 0, length: f.size, compressed: f.compressed, fileSize: f.size }));
      const length = group.reduce((sum, f) => sum + f.size, 0);
      splits.push({ index: splits.length, path: first.path, offset: 0, length, compressed: first.compressed, fileSize: first.size, files: whole });
    }
    run = [];
  };
  for (const file of files) {
    if (file.size === 0) continue;
    if (options.groupSmallFiles && file.size <= splitSize) {
      run.push(file);
      continue;
    }
    // A file of its own splits keeps the order of the input: map-only output follows it.
    closeRun();
    if (file.compressed) {
      add(file, 0, file.size);
      continue;
    }
    for (let offset = 0; offset < file.size; offset += splitSize) {
      add(file, offset, Math.min(splitSize, file.size - offset));
    }
  }
  closeRun();
  return splits;
}

/**
 * A run of consecutive small files (each <= splitSize, T bytes in all) as n = ceil(T / splitSize)
 * groups of about T / n bytes, the number of splits the same bytes as one file would make: each
 * file joins the group its middle byte falls in. Filling each group up to splitSize instead left
 * a remainder task (Brown's 500 files on 2 workers: 2 tasks of 5 MB and a third of one 20 kB file,
 * run after them and re-emitting its vocabulary). A group may pass T / n by half of each of its
 * two end files, so it can exceed splitSize by less than one file.
 */
function balancedGroups(run: readonly InputFile[], splitSize: number): InputFile[][] {
  const total = run.reduce((sum, file) => sum + file.size, 0);
  const count = Math.ceil(total / splitSize);
  const groups: InputFile[][] = [];
  let current: InputFile[] = [];
  let currentIndex = 0;
  let before = 0;
  for (const file of run) {
    const index = Math.min(count - 1, Math.floor(((before + file.size / 2) * count) / total));
    before += file.size;
    if (index !== currentIndex && current.length > 0) {
      groups.push(current);
      current = [];
    }
    currentIndex = index;
    current.push(file);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** "path@offset+length", as used in error reports; a group of files adds how many more it reads. */
export function describeSplit(split: Pick<Split, 'path' | 'offset' | 'length' | 'files'>): string {
  const more = split.files && split.files.length > 1 ? ` and ${split.files.length - 1} more files` : '';
  return `${split.path}@${split.offset}+${split.length}${more}`;
}
