/**
 * Output commit: parts are written under `DIR/_temporary/<run>` and renamed into place only when
 * the whole run succeeded, then `_SUCCESS` (a JSON manifest) is written last, so a reader that
 * waits for `_SUCCESS` never sees half an output and a failed run leaves no part files behind.
 * What may be replaced is output-guard.ts's decision.
 * Without --output, parts are streamed to stdout: merged by key for reduce jobs (by the key lists
 * reduce tasks send, in natural key order), in task order for map-only jobs.
 */
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { OutputError } from '../../errors.ts';
import { HISTORY_FOLDER } from '../status/run-status.ts';
import { compareOrdered, orderValue } from '../shuffle/key-order.ts';
import { KEYS_SETUP_MARK as SETUP_MARK, KEYS_TEARDOWN_MARK as TEARDOWN_MARK } from '../shuffle/task-protocol.ts';
import { partName } from './part-names.ts';
import { LOGS_FOLDER } from './run-logs.ts';

/** What gmr keeps in an output folder besides the output: runs in progress, past runs' status, task logs. */
export const RUN_FOLDERS = ['_temporary', HISTORY_FOLDER, LOGS_FOLDER];

/**
 * Commits the run's output into DIR, replacing a previous output without ever losing it: the new
 * output is assembled complete in the run folder first; only then is the old one moved aside
 * (into the run folder, `_SUCCESS` first, so readers never take it for whole), the new one moved
 * in with `_SUCCESS` last, and the old one deleted. If a step fails the old output is put back.
 */
export async function commitOutput(
  dir: string,
  parts: Array<{ index: number; path: string | undefined }>,
  manifest: unknown,
  badRecords: unknown[] = [],
  runFolder: string = join(dir, '_temporary', `commit-${process.pid}`),
): Promise<void> {
  try {
    await moveIntoPlace(dir, parts, manifest, badRecords, runFolder);
  } catch (error) {
    throw new OutputError(`Cannot commit the output to ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

async function moveIntoPlace(
  dir: string,
  parts: Array<{ index: number; path: string | undefined }>,
  manifest: unknown,
  badRecords: unknown[],
  runFolder: string,
): Promise<void> {
  const staged = join(runFolder, 'commit');
  const previous = join(runFolder, 'previous');
  await rm(staged, { recursive: true, force: true });
  await mkdir(staged, { recursive: true });
  for (const part of parts) {
    const target = join(staged, partName(part.index));
    if (part.path) await rename(part.path, target);
    else await writeFile(target, '');
  }
  if (badRecords.length > 0) {
    await writeFile(join(staged, '_bad_records'), badRecords.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  await writeFile(join(staged, '_SUCCESS'), `${JSON.stringify(manifest, null, 2)}\n`);

  await mkdir(dir, { recursive: true });
  await mkdir(previous, { recursive: true });
  const old = (await readdir(dir)).filter((e) => !RUN_FOLDERS.includes(e)).sort((a, b) => Number(b === '_SUCCESS') - Number(a === '_SUCCESS'));
  const moved: string[] = [];
  const fresh = (await readdir(staged)).sort((a, b) => Number(a === '_SUCCESS') - Number(b === '_SUCCESS'));
  const placed: string[] = [];
  try {
    for (const entry of old) {
      await rename(join(dir, entry), join(previous, entry));
      moved.push(entry);
    }
    for (const entry of fresh) {
      await rename(join(staged, entry), join(dir, entry));
      placed.push(entry);
    }
  } catch (error) {
    for (const entry of placed.reverse()) await rename(join(dir, entry), join(staged, entry)).catch(() => {});
    for (const entry of moved.reverse()) await rename(join(previous, entry), join(dir, entry)).catch(() => {});
    throw error;
  }
  await rm(previous, { recursive: true, force: true });
  await rm(staged, { recursive: true, force: true });
}

async function write(out: NodeJS.WritableStream, chunk: Buffer | string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * A file's bytes in chunks of up to 1 MB, each its own buffer (a caller may keep lines of one while
 * reading the next). Plain reads, not a ReadStream: a small run's driver reads no file through one
 * before its output, and loading and compiling Node's stream code then cost ~10 ms (issue 15).
 */
async function* chunks(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(1 << 20);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function* lines(path: string): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of chunks(path)) {
    const data = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    let newline = data.indexOf(10, start);
    while (newline >= 0) {
      yield data.subarray(start, newline + 1);
      start = newline + 1;
      newline = data.indexOf(10, start);
    }
    rest = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
  }
  if (rest && rest.length > 0) yield Buffer.concat([rest, Buffer.from('\n')]);
}

/**
 * The iterator with its first read already started, so that every part's files open and read side
 * by side instead of one after another (issue 15: a small run's output waited on ~4 opens in a row).
 * A failure of that read reaches whoever calls next(); none is left unhandled meanwhile.
 */
function started<T>(iterator: AsyncIterator<T>): AsyncIterator<T> {
  let first: Promise<IteratorResult<T>> | undefined = iterator.next();
  first.catch(() => {});
  return {
    next: () => {
      const result = first ?? iterator.next();
      first = undefined;
      return result;
    },
    return: async () => (await iterator.return?.()) ?? { done: true, value: undefined },
  };
}

/** A part to stream: its output lines and, for a reduce task of the last step, its key list. */
export interface StreamedPart {
  path: string | undefined;
  /** `<lines> TAB <encodedKey>` per reduce call that wrote lines (`^` setup, `$` teardown). */
  keys?: string | undefined;
}

/**
 * Streams parts to `out`: concatenated in order (map-only), or merged by the reduce keys that
 * wrote them, in natural key order (ties by part order). A reader that goes away early
 * (`gmr run … | head`) ends the stream quietly, as with other Unix tools: EPIPE is not a failed run.
 */
export async function streamParts(parts: StreamedPart[], out: NodeJS.WritableStream, merge: boolean): Promise<void> {
  let onError: (error: NodeJS.ErrnoException) => void = () => {};
  const closed = new Promise<void>((resolve, reject) => {
    onError = (error) => (error.code === 'EPIPE' ? resolve() : reject(error));
    out.once('error', onError);
  });
  try {
    await Promise.race([closed, copyParts(parts, out, merge)]);
  } finally {
    out.off('error', onError);
  }
}

/** One part's place in the merge: the group of lines it is at. */
interface Cursor {
  lines: AsyncIterator<Buffer>;
  keys: AsyncIterator<Buffer> | undefined;
  /** Lines left in the current group (Infinity: a part without key list, merged as one last group). */
  left: number;
  /** 0 setup lines, 1 a key's lines, 2 teardown lines; then the key and its order value. */
  rank: number;
  key: string;
  order: unknown;
}

async function nextGroup(cursor: Cursor): Promise<boolean> {
  if (cursor.keys === undefined) return false;
  const { value, done } = await cursor.keys.next();
  if (done === true) return false;
  const text = value.toString('utf8', 0, value.length - 1);
  const tab = text.indexOf('\t');
  const mark = text.slice(tab + 1);
  cursor.left = Number(text.slice(0, tab));
  if (mark === SETUP_MARK) cursor.rank = 0;
  else if (mark === TEARDOWN_MARK) cursor.rank = 2;
  else {
    cursor.rank = 1;
    cursor.key = mark;
    cursor.order = orderValue(mark);
  }
  return true;
}

function before(a: Cursor, b: Cursor): boolean {
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.rank === 1 && compareOrdered(a.key, a.order, b.key, b.order) < 0;
}

async function copyParts(parts: StreamedPart[], out: NodeJS.WritableStream, merge: boolean): Promise<void> {
  const present = parts.filter((p): p is StreamedPart & { path: string } => p.path !== undefined);
  if (!merge) {
    for (const { path } of present) {
      for await (const chunk of chunks(path)) {
        await write(out, chunk);
      }
    }
    return;
  }
  // Every part's files are opened first, then each one's first group is awaited (in part order).
  const opened: Cursor[] = present.map((part) => ({
    lines: started(lines(part.path)),
    keys: part.keys === undefined ? undefined : started(lines(part.keys)),
    left: Infinity,
    rank: 2,
    key: '',
    order: undefined,
  }));
  try {
    await mergeCursors(opened, out);
  } finally {
    // A part read to its last line may not have read its end yet: this closes its file.
    await Promise.all(opened.flatMap((c) => [c.lines.return?.(), c.keys?.return?.()]));
  }
}

async function mergeCursors(opened: Cursor[], out: NodeJS.WritableStream): Promise<void> {
  let cursors: Cursor[] = [];
  for (const cursor of opened) {
    if (cursor.keys === undefined || (await nextGroup(cursor))) cursors.push(cursor);
  }
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  while (cursors.length > 0) {
    let best = cursors[0] as Cursor;
    for (const c of cursors) if (before(c, best)) best = c;
    for (; best.left > 0; best.left--) {
      const { value: line, done } = await best.lines.next();
      if (done === true) break;
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= 1 << 16) {
        await write(out, Buffer.concat(pending));
        pending.length = 0;
        pendingBytes = 0;
      }
    }
    if (!(await nextGroup(best))) cursors = cursors.filter((c) => c !== best);
  }
  if (pending.length > 0) await write(out, Buffer.concat(pending));
}
