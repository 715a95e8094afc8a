/**
 * Output commit: parts are written under `DIR/_temporary/<run>` and renamed into place only when
 * the whole run succeeded, then `_SUCCESS` (a JSON manifest) is written last, so a reader that
 * waits for `_SUCCESS` never sees half an output and a failed run leaves no part files behind.
 * Without --output, parts are streamed to stdout: merged by key for reduce jobs, in task order for
 * map-only jobs.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { OutputError, UsageError } from '../../errors.ts';
import { HISTORY_FOLDER } from '../status/run-status.ts';
import { compareUtf8 } from '../shuffle/encoding.ts';
import { partName } from './part-names.ts';

/** What gmr keeps in an output folder besides the output: runs in progress, and past runs' status. */
const RUN_FOLDERS = ['_temporary', HISTORY_FOLDER];

/** Refuses an existing non-empty output folder unless overwrite is set. */
export async function checkOutputDir(dir: string, overwrite: boolean): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UsageError(`Output path ${dir} exists and is not a folder`);
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (error instanceof UsageError) throw error;
    throw new OutputError(`Cannot use ${dir} as the output folder: ${(error as Error).message}`, { cause: error });
  }
  const visible = entries.filter((e) => !RUN_FOLDERS.includes(e));
  if (visible.length > 0 && !overwrite) {
    throw new UsageError(
      `Output folder ${dir} is not empty (${visible.slice(0, 3).join(', ')}${visible.length > 3 ? ', …' : ''}); use --overwrite to replace it`,
    );
  }
}

/** Moves finished parts into DIR and writes DIR/_SUCCESS. Old parts are removed with overwrite. */
export async function commitOutput(
  dir: string,
  parts: Array<{ index: number; path: string | undefined }>,
  manifest: unknown,
  badRecords: unknown[] = [],
): Promise<void> {
  try {
    await moveIntoPlace(dir, parts, manifest, badRecords);
  } catch (error) {
    throw new OutputError(`Cannot commit the output to ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

async function moveIntoPlace(
  dir: string,
  parts: Array<{ index: number; path: string | undefined }>,
  manifest: unknown,
  badRecords: unknown[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const entry of await readdir(dir)) {
    if (RUN_FOLDERS.includes(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  for (const part of parts) {
    const target = join(dir, partName(part.index));
    if (part.path) await rename(part.path, target);
    else await writeFile(target, '');
  }
  if (badRecords.length > 0) {
    await writeFile(join(dir, '_bad_records'), badRecords.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  await writeFile(join(dir, '_SUCCESS'), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function write(out: NodeJS.WritableStream, chunk: Buffer | string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

async function* lines(path: string): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
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
 * Where an output line goes in the merge: its key column (the text before the first TAB, the whole
 * line without one) encoded as the shuffle encodes a string key, so lines merge in the order the
 * reducers wrote them (by encoded-key bytes, shuffle/encoding.ts) and stdout agrees with the parts.
 * Raw text would not: `a"b` < `a#` as text, but `"a#"` < `"a\"b"` encoded. Exact for string keys
 * and for number keys (digits keep their order inside quotes); a job that mixes key types gets
 * each part's order, merged by this rule.
 */
function lineOrder(line: Buffer): string {
  const tab = line.indexOf(9);
  return JSON.stringify(line.toString('utf8', 0, tab < 0 ? line.length - 1 : tab));
}

/**
 * Streams parts to `out`. A reader that goes away early (`gmr run … | head`) ends the stream
 * quietly, as with other Unix tools: EPIPE is not a failed run.
 */
export async function streamParts(paths: Array<string | undefined>, out: NodeJS.WritableStream, merge: boolean): Promise<void> {
  let onError: (error: NodeJS.ErrnoException) => void = () => {};
  const closed = new Promise<void>((resolve, reject) => {
    onError = (error) => (error.code === 'EPIPE' ? resolve() : reject(error));
    out.once('error', onError);
  });
  try {
    await Promise.race([closed, copyParts(paths, out, merge)]);
  } finally {
    out.off('error', onError);
  }
}

async function copyParts(paths: Array<string | undefined>, out: NodeJS.WritableStream, merge: boolean): Promise<void> {
  const present = paths.filter((p): p is string => p !== undefined);
  if (!merge) {
    for (const path of present) {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        await write(out, chunk);
      }
    }
    return;
  }
  const cursors = present.map((p) => lines(p)[Symbol.asyncIterator]());
  const heads: Array<Buffer | undefined> = await Promise.all(cursors.map(async (c) => (await c.next()).value ?? undefined));
  const orders = heads.map((h) => (h ? lineOrder(h) : ''));
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  for (;;) {
    let best = -1;
    let bestKey: string | undefined;
    for (let i = 0; i < heads.length; i++) {
      if (!heads[i]) continue;
      const key = orders[i] as string;
      if (bestKey === undefined || compareUtf8(key, bestKey) < 0) {
        best = i;
        bestKey = key;
      }
    }
    if (best < 0) break;
    const line = heads[best] as Buffer;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= 1 << 16) {
      await write(out, Buffer.concat(pending));
      pending.length = 0;
      pendingBytes = 0;
    }
    const next: Buffer | undefined = (await (cursors[best] as AsyncIterator<Buffer>).next()).value ?? undefined;
    heads[best] = next;
    orders[best] = next ? lineOrder(next) : '';
  }
  if (pending.length > 0) await write(out, Buffer.concat(pending));
}
