/**
 * The reduce task runtime: a streaming k-way merge of sorted runs of partial lines (one run per
 * map task, arbitrary chunking), grouped by encodedKey and handed to the job's `reduce`.
 *
 * Memory is one key's values plus about one chunk per run, never the whole partition: each run is
 * read chunk by chunk, and the merge pulls the next line only from the run it just consumed.
 * Values of one key come in run order (run 0's first), and within a run in line order.
 * Output lines (`format`) are written in key order to `sink` in ~1 MiB chunks.
 */

import { TaskError } from '../../errors.ts';
import { defaultFormat } from '../job/define-job.ts';
import type { JobDefinition, Params, ReduceContext } from '../job/define-job.ts';
import { compareUtf8, LineChunker } from '../shuffle/encoding.ts';
import { TaskState } from './map-task.ts';
import type { TaskHooks } from './map-task.ts';
import { messageOf, TaskFailure } from './task-failure.ts';

export interface ReduceTaskSpec {
  job: string;
  /** The reduce task number, which is also its partition. */
  index: number;
  partitions: number;
  params: Params;
}

export interface ReduceTaskSummary {
  /** Distinct keys reduced. */
  keys: number;
  /** Partial lines (values) read from all runs. */
  values: number;
  outputRecords: number;
  outputBytes: number;
  counters: Record<string, number>;
  status?: string;
}

const LF = 0x0a;
const SHOWN_BYTES = 80;

export async function runReduceTask<Rec, K, V, Out>(
  job: JobDefinition<Rec, K, V, Out>,
  spec: ReduceTaskSpec,
  runs: AsyncIterable<Buffer>[],
  sink: (chunk: Buffer) => void,
  hooks: TaskHooks = {},
): Promise<ReduceTaskSummary> {
  const reduce = job.reduce;
  if (typeof reduce !== 'function') {
    throw new TaskError(`${spec.job} reduce task ${spec.index}: expected a job with a reduce function (a map-only job has no reduce phase)`);
  }
  const prefix = `${spec.job} reduce task ${spec.index}`;
  const state = new TaskState(hooks);
  const ctx: ReduceContext = {
    params: spec.params,
    task: { job: spec.job, phase: 'reduce', index: spec.index },
    count: (name: string, amount?: number) => state.count(name, amount),
    status: (message: string) => state.setStatus(message),
  };
  const fail = (err: unknown, context: string, encKey?: string): TaskFailure =>
    new TaskFailure(
      `${prefix} failed ${context}: ${messageOf(err)}`,
      { job: spec.job, phase: 'reduce', index: spec.index, ...(encKey === undefined ? {} : { key: encKey }) },
      { cause: err },
    );
  const format = (job.format as ((key: K, out: Out) => string) | undefined) ?? defaultFormat;
  const out = new LineChunker(sink);

  let bytesRead = 0;
  const onBytes = hooks.onProgress
    ? (n: number) => {
        bytesRead += n;
        hooks.onProgress?.(bytesRead);
      }
    : undefined;
  const readers = runs.map((run, i) => new RunReader(run, i, prefix, onBytes));

  try {
    await job.setup?.(ctx);
  } catch (err) {
    throw fail(err, 'in setup');
  }

  const heap = new RunHeap();
  for (const r of readers) if (await r.advance()) heap.push(r);

  let keys = 0;
  let values = 0;
  let outputRecords = 0;
  const encValues: string[] = [];
  while (heap.size > 0) {
    const first = heap.top();
    const encKey = first.key;
    encValues.length = 0;
    do {
      const r = heap.top();
      encValues.push(r.value);
      let more = r.advanceSync();
      if (more === undefined) more = await r.advance();
      if (more) heap.siftTop();
      else heap.popTop();
    } while (heap.size > 0 && heap.top().key === encKey);

    keys++;
    values += encValues.length;
    const key = parsePart(encKey, encKey, encValues[0] as string, prefix) as K;
    const vals = new Array<V>(encValues.length);
    for (let i = 0; i < encValues.length; i++) {
      const encValue = encValues[i] as string;
      vals[i] = parsePart(encValue, encKey, encValue, prefix) as V;
    }
    let line: string;
    try {
      const result = reduce(key, vals, ctx);
      if (result === undefined) continue;
      line = format(key, result);
    } catch (err) {
      throw fail(err, `on key ${shorten(encKey)}`, encKey);
    }
    out.write(`${line}\n`);
    outputRecords++;
  }

  try {
    await job.teardown?.(ctx);
  } catch (err) {
    throw fail(err, 'in teardown');
  }
  out.flush();
  const summary: ReduceTaskSummary = {
    keys,
    values,
    outputRecords,
    outputBytes: out.bytes,
    counters: state.counterRecord(),
  };
  if (state.status !== undefined) summary.status = state.status;
  return summary;
}

function parsePart(text: string, encKey: string, encValue: string, prefix: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(`${encKey}\t${encValue}`, prefix);
  }
}

function malformed(line: string, prefix: string, what = 'a partial line'): TaskError {
  const shown = Buffer.from(line, 'utf8').subarray(0, SHOWN_BYTES).toString('utf8');
  return new TaskError(`${prefix}: malformed ${what}: expected <json>\\t<json>, received ${JSON.stringify(shown)}`);
}

function shorten(s: string): string {
  return s.length <= 200 ? s : `${s.slice(0, 200)}…`;
}

/** One sorted run: yields its partial lines as (key, value) heads, reading a chunk at a time. */
class RunReader {
  key = '';
  value = '';
  private readonly it: AsyncIterator<Buffer>;
  private lines: string[] = [];
  private next = 0;
  private rest: Buffer[] = [];
  private ended = false;
  private hasHead = false;

  constructor(
    run: AsyncIterable<Buffer>,
    readonly index: number,
    private readonly prefix: string,
    private readonly onBytes: ((n: number) => void) | undefined,
  ) {
    this.it = run[Symbol.asyncIterator]();
  }

  /** Moves to the next line: true/false when buffered lines decide it, undefined when a read is needed. */
  advanceSync(): boolean | undefined {
    if (this.next < this.lines.length) {
      this.take(this.lines[this.next++] as string);
      return true;
    }
    if (this.ended) return false;
    return undefined;
  }

  async advance(): Promise<boolean> {
    for (;;) {
      const more = this.advanceSync();
      if (more !== undefined) return more;
      await this.read();
    }
  }

  private take(line: string): void {
    const tab = line.indexOf('\t');
    if (tab <= 0) throw malformed(line, this.prefix, `partial line in run ${this.index}`);
    const key = line.slice(0, tab);
    if (this.hasHead && compareUtf8(key, this.key) < 0) {
      throw new TaskError(
        `${this.prefix}: run ${this.index} is not sorted: expected keys in UTF-8 byte order, received ${shorten(key)} after ${shorten(this.key)}`,
      );
    }
    this.hasHead = true;
    this.key = key;
    this.value = line.slice(tab + 1);
  }

  /** Reads chunks until at least one whole line is buffered or the run ends. */
  private async read(): Promise<void> {
    this.lines = [];
    this.next = 0;
    for (;;) {
      const { value: chunk, done } = await this.it.next();
      if (done) {
        this.ended = true;
        if (this.rest.length > 0) {
          const tail = Buffer.concat(this.rest).toString('utf8');
          throw new TaskError(
            `${this.prefix}: run ${this.index} ends inside a line: expected partial lines ending in '\\n', received ${JSON.stringify(tail.slice(0, SHOWN_BYTES))} at the end`,
          );
        }
        return;
      }
      if (chunk.length === 0) continue;
      this.onBytes?.(chunk.length);
      const nl = chunk.lastIndexOf(LF);
      if (nl === -1) {
        this.rest.push(chunk);
        continue;
      }
      // '\n' never occurs inside a UTF-8 sequence, so whole lines decode safely on their own.
      let whole = chunk.subarray(0, nl);
      if (this.rest.length > 0) {
        this.rest.push(whole);
        whole = Buffer.concat(this.rest);
      }
      this.rest = nl + 1 < chunk.length ? [chunk.subarray(nl + 1)] : [];
      this.lines = whole.toString('utf8').split('\n');
      return;
    }
  }
}

/** A binary min-heap of runs ordered by (head key in UTF-8 byte order, run index). */
class RunHeap {
  private readonly items: RunReader[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): RunReader {
    return this.items[0] as RunReader;
  }

  push(r: RunReader): void {
    const items = this.items;
    items.push(r);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i] as RunReader, items[parent] as RunReader)) break;
      swap(items, i, parent);
      i = parent;
    }
  }

  /** The top's key changed (only ever grew): restore the order. */
  siftTop(): void {
    const items = this.items;
    const n = items.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const child = r < n && less(items[r] as RunReader, items[l] as RunReader) ? r : l;
      if (!less(items[child] as RunReader, items[i] as RunReader)) return;
      swap(items, i, child);
      i = child;
    }
  }

  popTop(): void {
    const items = this.items;
    const last = items.pop() as RunReader;
    if (items.length === 0) return;
    items[0] = last;
    this.siftTop();
  }
}

function less(a: RunReader, b: RunReader): boolean {
  const c = compareUtf8(a.key, b.key);
  return c < 0 || (c === 0 && a.index < b.index);
}

function swap(items: RunReader[], i: number, j: number): void {
  const t = items[i] as RunReader;
  items[i] = items[j] as RunReader;
  items[j] = t;
}
