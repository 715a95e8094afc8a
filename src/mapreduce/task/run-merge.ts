/**
 * The k-way merge under a reduce task: sorted runs of partial lines (one run per map task,
 * arbitrary chunking) read a chunk at a time, ordered by natural key order (key-order.ts), then by
 * natural value order when the step sorts values, then by run index.
 */
import { TaskError } from '../../errors.ts';
import { compareOrdered, orderValue } from '../shuffle/key-order.ts';

const LF = 0x0a;
const SHOWN_BYTES = 80;

export function malformed(line: string, prefix: string, what = 'a partial line'): TaskError {
  const shown = Buffer.from(line, 'utf8').subarray(0, SHOWN_BYTES).toString('utf8');
  return new TaskError(`${prefix}: malformed ${what}: expected <json>\\t<json>, received ${JSON.stringify(shown)}`);
}

export function shorten(s: string): string {
  return s.length <= 200 ? s : `${s.slice(0, 200)}…`;
}

/** One sorted run: yields its partial lines as (key, value) heads, reading a chunk at a time. */
export class RunReader {
  key = '';
  value = '';
  /** What the head's key (and, with sortValues, value) sort by. */
  order: unknown = '';
  valueOrder: unknown = undefined;
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
    readonly sortValues = false,
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
    const value = line.slice(tab + 1);
    let order: unknown;
    try {
      order = key === this.key && this.hasHead ? this.order : orderValue(key);
      if (this.sortValues) this.valueOrder = orderValue(value);
    } catch {
      throw malformed(line, this.prefix, `partial line in run ${this.index}`);
    }
    if (this.hasHead && compareOrdered(key, order, this.key, this.order) < 0) {
      throw new TaskError(
        `${this.prefix}: run ${this.index} is not sorted: expected keys in natural order (docs/WIRE.md), received ${shorten(key)} after ${shorten(this.key)}`,
      );
    }
    this.hasHead = true;
    this.key = key;
    this.order = order;
    this.value = value;
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

/** A binary min-heap of runs ordered by (head key, head value with sortValues, run index). */
export class RunHeap {
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
  const c = compareOrdered(a.key, a.order, b.key, b.order);
  if (c !== 0) return c < 0;
  if (a.sortValues) {
    const v = compareOrdered(a.value, a.valueOrder, b.value, b.valueOrder);
    if (v !== 0) return v < 0;
  }
  return a.index < b.index;
}

function swap(items: RunReader[], i: number, j: number): void {
  const t = items[i] as RunReader;
  items[i] = items[j] as RunReader;
  items[j] = t;
}
