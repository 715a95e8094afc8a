/**
 * FdInputFile, a task's checked input as a plain descriptor: reads at positions, stat, a close
 * that happens once, and a read stream that takes the descriptor over (a later close must not
 * close a descriptor number the process has since reused for another file).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdInputFile } from '../../../src/mapreduce/task/fd-input-file.ts';

let dir: string;
let a: string;
let b: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-fd-'));
  a = join(dir, 'a.txt');
  b = join(dir, 'b.txt');
  writeFileSync(a, 'one\ntwo\nthree\n');
  writeFileSync(b, 'other file\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function text(stream: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += chunk.toString('utf8');
  return out;
}

describe('FdInputFile', () => {
  it('reads at a position, stats, and closes once', async () => {
    const file = new FdInputFile(openSync(a, 'r'));
    const buf = Buffer.alloc(5);
    expect(await file.read(buf, 0, 5, 4)).toEqual({ bytesRead: 5 });
    expect(buf.toString()).toBe('two\nt');
    expect((await file.stat()).size).toBe(14);
    await file.close();
    await file.close();
    await expect(file.read(buf, 0, 5, 0)).rejects.toThrow(/EBADF/);
  });

  it('streams a byte range and closes the descriptor at its end; close afterwards leaves a reused number alone', async () => {
    const file = new FdInputFile(openSync(a, 'r'));
    const stream = file.createReadStream({ start: 4, end: 7 });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    expect(await text(stream)).toBe('two\n');
    await closed;
    // The number may now belong to another file: closing `file` again must not touch it.
    const other = openSync(b, 'r');
    await file.close();
    const buf = Buffer.alloc(5);
    expect(readSync(other, buf, 0, 5, 0)).toBe(5);
    expect(buf.toString()).toBe('other');
    closeSync(other);
    expect(() => file.createReadStream()).toThrow(/already closed/);
  });
});
