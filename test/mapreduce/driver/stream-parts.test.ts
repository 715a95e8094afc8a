/**
 * streamParts (a run without --output): every part is read side by side and merged by its key
 * list; each file it opens is closed when it returns, also a part read to its last line but not
 * to its end, and parts larger than one read (1 MB) come out whole.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { streamParts } from '../../../src/mapreduce/driver/output-commit.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Descriptors this process holds (Linux). */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('streamParts', () => {
  it('merges 3 reduce parts by their key lists and closes every file it opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-stream-parts-'));
    dirs.push(dir);
    // Hand-written parts as 3 reducers write them: lines, and per key `<lines> TAB <JSON key>`.
    const files: Array<[string, string]> = [
      ['apple\t3\nfig\t1\n', '1\t"apple"\n1\t"fig"\n'],
      ['banana\t2\nbanana-x\t1\nkiwi\t4\n', '2\t"banana"\n1\t"kiwi"\n'],
      ['cherry\t5\n', '1\t"cherry"\n'],
    ];
    const parts = files.map(([lines, keys], i) => {
      writeFileSync(join(dir, `out-${i}`), lines);
      writeFileSync(join(dir, `keys-${i}`), keys);
      return { path: join(dir, `out-${i}`), keys: join(dir, `keys-${i}`) };
    });
    const before = openDescriptors();
    const { out, text } = sink();
    await streamParts(parts, out, true);
    expect(text()).toBe('apple\t3\nbanana\t2\nbanana-x\t1\ncherry\t5\nfig\t1\nkiwi\t4\n');
    expect(openDescriptors()).toBe(before);
  });

  it('writes parts larger than one read whole, merged and concatenated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-stream-parts-'));
    dirs.push(dir);
    // 2 parts of ~1.6 MB each: one key per part, many lines (a lines group crosses the 1 MB reads).
    const lineA = `a\t${'x'.repeat(99)}\n`;
    const lineB = `b\t${'y'.repeat(57)}\n`;
    const a = lineA.repeat(16_000);
    const b = lineB.repeat(28_000);
    writeFileSync(join(dir, 'out-0'), b);
    writeFileSync(join(dir, 'keys-0'), '28000\t"b"\n');
    writeFileSync(join(dir, 'out-1'), a);
    writeFileSync(join(dir, 'keys-1'), '16000\t"a"\n');
    const parts = [0, 1].map((i) => ({ path: join(dir, `out-${i}`), keys: join(dir, `keys-${i}`) }));
    const merged = sink();
    await streamParts(parts, merged.out, true);
    expect(merged.text() === a + b).toBe(true);
    const concatenated = sink();
    await streamParts(parts, concatenated.out, false);
    expect(concatenated.text() === b + a).toBe(true);
  });

  it('fails with the missing part named, and leaves no file open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-stream-parts-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'out-0'), 'a\t1\n');
    writeFileSync(join(dir, 'keys-0'), '1\t"a"\n');
    const before = openDescriptors();
    const parts = [
      { path: join(dir, 'out-0'), keys: join(dir, 'keys-0') },
      { path: join(dir, 'out-1'), keys: join(dir, 'keys-1') },
    ];
    await expect(streamParts(parts, sink().out, true)).rejects.toThrow(/keys-1/);
    expect(openDescriptors()).toBe(before);
  });
});
