/**
 * Runs a job in-process the way a run does, without Gearman: each input file is cut into
 * `splitsPerFile` line-aligned map tasks (records fed from memory), partials are routed by
 * partition, and every reduce task merges the runs of all map tasks (optionally re-chunked at
 * random byte boundaries). A `mapBytes` job gets each split's bytes in blocks of whole lines of
 * seeded random sizes (1 line to ~4 KiB), so words meet block ends everywhere. Output is the reduce outputs in partition order (map-only: the map
 * outputs in task order).
 */

import { readFile } from 'node:fs/promises';
import { runMapTask } from '../../src/mapreduce/task/map-task.ts';
import type { MapSource, MapTaskSpec, MapTaskSummary } from '../../src/mapreduce/task/map-task.ts';
import { runReduceTask } from '../../src/mapreduce/task/reduce-task.ts';
import type { ReduceTaskSummary } from '../../src/mapreduce/task/reduce-task.ts';
import type { JobDefinition, Params } from '../../src/mapreduce/job/define-job.ts';
import { mulberry32 as prng } from '../helpers/random.ts';
export { mulberry32 as prng } from '../helpers/random.ts';

export interface LocalRunOptions {
  partitions?: number;
  splitsPerFile?: number;
  params?: Params;
  /** Re-chunk each run at random boundaries of at most this many bytes (seeded). */
  rechunk?: number;
  seed?: number;
}

export interface LocalRun {
  output: string;
  /** Each reduce task's output (map-only: each map task's output). */
  parts: string[];
  maps: MapTaskSummary[];
  reduces: ReduceTaskSummary[];
  counters: Record<string, number>;
}

interface PlannedSplit {
  spec: MapTaskSpec;
  lines: Array<{ text: string; offset: number }>;
  /** The split's own bytes (the lines it owns). */
  bytes: Buffer;
}

async function planSplits(files: string[], splitsPerFile: number, base: Omit<MapTaskSpec, 'index' | 'split'>): Promise<PlannedSplit[]> {
  const planned: PlannedSplit[] = [];
  for (const file of files) {
    const data = await readFile(file);
    const lines: Array<{ text: string; offset: number }> = [];
    let start = 0;
    while (start < data.length) {
      let end = data.indexOf(0x0a, start);
      if (end === -1) end = data.length;
      let text = data.toString('utf8', start, end);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      lines.push({ text, offset: start });
      start = end + 1;
    }
    const per = Math.max(1, Math.ceil(lines.length / splitsPerFile));
    for (let first = 0; first < Math.max(lines.length, 1); first += per) {
      const part = lines.slice(first, first + per);
      const offset = part[0]?.offset ?? 0;
      const next = lines[first + per]?.offset ?? data.length;
      const spec: MapTaskSpec = {
        ...base,
        index: planned.length,
        split: { path: file, offset, length: next - offset },
        lineBase: first,
      };
      if (offset > 0 && lines[0] !== undefined) spec.header = lines[0].text;
      planned.push({ spec, lines: part, bytes: data.subarray(offset, next) });
    }
  }
  return planned;
}

function sourceOf(split: PlannedSplit, random: () => number): MapSource {
  const { lines, bytes } = split;
  const base = split.spec.split.offset;
  const length = split.spec.split.length;
  return {
    lines: async (onRecord, onProgress) => {
      lines.forEach((l, i) => onRecord(l.text, { line: i + 1, offset: l.offset }));
      onProgress?.(length);
      return { records: lines.length, bytes: length };
    },
    blocks: async (onBlock, onProgress) => {
      let blocks = 0;
      for (let start = 0; start < bytes.length; blocks++) {
        const newline = bytes.indexOf(0x0a, start + Math.floor(random() * 4096));
        const end = newline === -1 ? bytes.length : newline + 1;
        onBlock(bytes, start, end, base + start);
        start = end;
      }
      onProgress?.(length);
      return { records: blocks, bytes: length };
    },
  };
}

function rechunk(buf: Buffer, max: number, random: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(random() * max);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function* iterate(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

function addCounters(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function runLocal<Rec, K, V, Out>(
  job: JobDefinition<Rec, K, V, Out>,
  files: string[],
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  const partitions = options.partitions ?? 2;
  const params = options.params ?? {};
  const random = prng(options.seed ?? 1);
  const planned = await planSplits(files, options.splitsPerFile ?? 2, { job: 'test', partitions, params });
  const mapOutputs: Buffer[][][] = [];
  const maps: MapTaskSummary[] = [];
  const counters: Record<string, number> = {};
  for (const split of planned) {
    const { spec } = split;
    const chunks: Buffer[][] = Array.from({ length: partitions }, () => []);
    const summary = await runMapTask(job, spec, sourceOf(split, random), (p, chunk) => {
      const list = chunks[p];
      if (list === undefined) throw new Error(`partition ${p} out of range`);
      list.push(chunk);
    });
    maps.push(summary);
    addCounters(counters, summary.counters);
    mapOutputs.push(chunks);
  }
  if (job.reduce === undefined) {
    const parts = mapOutputs.map((chunks) => Buffer.concat(chunks[0] ?? []).toString('utf8'));
    return { output: parts.join(''), parts, maps, reduces: [], counters };
  }
  const parts: string[] = [];
  const reduces: ReduceTaskSummary[] = [];
  for (let p = 0; p < partitions; p++) {
    const runs = mapOutputs.map((chunks) => {
      const whole = Buffer.concat(chunks[p] ?? []);
      return iterate(options.rechunk === undefined ? (chunks[p] ?? []) : rechunk(whole, options.rechunk, random));
    });
    const out: Buffer[] = [];
    const summary = await runReduceTask(job, { job: 'test', index: p, partitions, params }, runs, (c) => out.push(c));
    reduces.push(summary);
    addCounters(counters, summary.counters);
    parts.push(Buffer.concat(out).toString('utf8'));
  }
  return { output: parts.join(''), parts, maps, reduces, counters };
}

/** Runs a command (a reference implementation) over files and returns its stdout. */
export { execFileSync } from 'node:child_process';

/** Parses `key<TAB>rest` lines into a Map (rest keeps any further TABs). */
export function parseTsv(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    m.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return m;
}
