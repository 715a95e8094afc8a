/**
 * Runs a job in-process the way a run does, without Gearman: each input file is cut into
 * `splitsPerFile` line-aligned map tasks (records fed from memory), partials are routed by
 * partition, and every reduce task merges the runs of all map tasks (optionally re-chunked at
 * random byte boundaries). A `mapBytes` job gets each split's bytes in blocks of whole lines of
 * seeded random sizes (1 line to ~4 KiB), so words meet block ends everywhere. A job of several
 * steps runs them in turn, each step's parts being the next step's input files. Output is the last
 * step's reduce outputs in partition order (map-only: the map outputs in task order).
 */

import { readFile } from 'node:fs/promises';
import { runMapTask } from '../../src/mapreduce/task/map-task.ts';
import type { MapSource, MapTaskSpec, MapTaskSummary } from '../../src/mapreduce/task/map-task.ts';
import { runReduceTask } from '../../src/mapreduce/task/reduce-task.ts';
import type { ReduceTaskSummary } from '../../src/mapreduce/task/reduce-task.ts';
import type { Params } from '../../src/mapreduce/job/define-job.ts';
import { normalizeJob, stepReduces } from '../../src/mapreduce/job/job-steps.ts';
import { mulberry32 } from './random.ts';

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
  /** Each last-step reduce task's key list (`<lines> TAB <encodedKey>` lines). */
  keys: string[];
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

function planSplits(files: Array<{ file: string; data: Buffer }>, splitsPerFile: number, base: Omit<MapTaskSpec, 'index' | 'split'>): PlannedSplit[] {
  const planned: PlannedSplit[] = [];
  for (const { file, data } of files) {
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

export async function runLocal(job: object, files: string[], options: LocalRunOptions = {}): Promise<LocalRun> {
  const definition = normalizeJob(job);
  let inputs = await Promise.all(files.map(async (file) => ({ file, data: await readFile(file) })));
  const maps: MapTaskSummary[] = [];
  const reduces: ReduceTaskSummary[] = [];
  const counters: Record<string, number> = {};
  let parts: string[] = [];
  let keys: string[] = [];
  for (let step = 0; step < definition.steps.length; step++) {
    const stepDef = definition.steps[step];
    if (stepDef === undefined) throw new Error(`no step ${step}`);
    const result = await runStep(job, step, stepReduces(stepDef), inputs, options);
    maps.push(...result.maps);
    reduces.push(...result.reduces);
    for (const s of [...result.maps, ...result.reduces]) addCounters(counters, s.counters);
    parts = result.parts;
    keys = result.keys;
    inputs = parts.map((text, i) => ({ file: `step-${step + 1}/part-${i}`, data: Buffer.from(text) }));
  }
  return { output: parts.join(''), parts, keys, maps, reduces, counters };
}

async function runStep(
  job: object,
  step: number,
  reduces: boolean,
  inputs: Array<{ file: string; data: Buffer }>,
  options: LocalRunOptions,
): Promise<{ parts: string[]; keys: string[]; maps: MapTaskSummary[]; reduces: ReduceTaskSummary[] }> {
  const partitions = options.partitions ?? 2;
  const params = options.params ?? {};
  const random = mulberry32((options.seed ?? 1) + step);
  const planned = planSplits(inputs, options.splitsPerFile ?? 2, { job: 'test', step, partitions, params });
  const mapOutputs: Buffer[][][] = [];
  const maps: MapTaskSummary[] = [];
  for (const split of planned) {
    const { spec } = split;
    const chunks: Buffer[][] = Array.from({ length: partitions }, () => []);
    const summary = await runMapTask(job, spec, sourceOf(split, random), (p, chunk) => {
      const list = chunks[p];
      if (list === undefined) throw new Error(`partition ${p} out of range`);
      list.push(chunk);
    });
    maps.push(summary);
    mapOutputs.push(chunks);
  }
  if (!reduces) {
    return { parts: mapOutputs.map((chunks) => Buffer.concat(chunks[0] ?? []).toString('utf8')), keys: [], maps, reduces: [] };
  }
  const parts: string[] = [];
  const keys: string[] = [];
  const summaries: ReduceTaskSummary[] = [];
  for (let p = 0; p < partitions; p++) {
    const runs = mapOutputs.map((chunks) => {
      const whole = Buffer.concat(chunks[p] ?? []);
      return iterate(options.rechunk === undefined ? (chunks[p] ?? []) : rechunk(whole, options.rechunk, random));
    });
    const out: Buffer[] = [];
    const keyOut: Buffer[] = [];
    const summary = await runReduceTask(job, { job: 'test', step, index: p, partitions, params }, runs, (c) => out.push(c), {}, (c) => keyOut.push(c));
    summaries.push(summary);
    parts.push(Buffer.concat(out).toString('utf8'));
    keys.push(Buffer.concat(keyOut).toString('utf8'));
  }
  return { parts, keys, maps, reduces: summaries };
}

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
