import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { linesIn, readBufferBlocks, readBufferRecords, readSplit, readSplitBlocks } from '../../../src/mapreduce/task/record-reader.ts';
import { alignSplit } from '../../../src/mapreduce/shuffle/split.ts';
import type { RecordPosition } from '../../../src/mapreduce/task/record-reader.ts';
import type { Split } from '../../../src/mapreduce/shuffle/split.ts';
import { mulberry32 } from '../../helpers/random.ts';

interface Rec {
  line: string;
  offset: number;
}

/** The test's own reference: split on '\n', drop the empty tail after a final '\n', strip one '\r'. */
function referenceRecords(content: Buffer): Rec[] {
  const text = content.toString('utf8');
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  const out: Rec[] = [];
  let offset = 0;
  for (const part of parts) {
    out.push({ line: part.endsWith('\r') ? part.slice(0, -1) : part, offset });
    offset += Buffer.byteLength(part, 'utf8') + 1;
  }
  return out;
}

function cut(file: string, size: number, splitSize: number): Split[] {
  const splits: Split[] = [];
  for (let offset = 0; offset < size; offset += splitSize) {
    splits.push({ index: splits.length, path: file, offset, length: Math.min(splitSize, size - offset), compressed: false, fileSize: size });
  }
  return splits;
}

async function readAll(split: Split, progress?: number[]): Promise<{ recs: Rec[]; lines: number[]; bytes: number; records: number }> {
  const recs: Rec[] = [];
  const lines: number[] = [];
  const result = await readSplit(
    split,
    (line: string, pos: RecordPosition) => {
      recs.push({ line, offset: pos.offset });
      lines.push(pos.line);
    },
    progress === undefined ? undefined : (done) => progress.push(done),
  );
  return { recs, lines, ...result };
}

interface Block {
  bytes: Buffer;
  offset: number;
}

/** The test's reading of mapBytes' contract: every line of a block ends at '\n' or at the block's end. */
function linesOfBlocks(blocks: Block[]): Rec[] {
  const out: Rec[] = [];
  for (const { bytes, offset } of blocks) {
    for (let s = 0; s < bytes.length; ) {
      let e = bytes.indexOf(0x0a, s);
      if (e === -1) e = bytes.length;
      const text = bytes.toString('utf8', s, e);
      out.push({ line: text.endsWith('\r') ? text.slice(0, -1) : text, offset: offset + s });
      s = e + 1;
    }
  }
  return out;
}

async function readBlocks(split: Split): Promise<{ blocks: Block[]; bytes: number; records: number }> {
  const blocks: Block[] = [];
  // The reader reuses its buffer after each call: copy, as a job must.
  const result = await readSplitBlocks(split, (buf, start, end, offset) => blocks.push({ bytes: Buffer.from(buf.subarray(start, end)), offset }));
  return { blocks, ...result };
}

/** Reads every split of the file and checks the properties every split size must keep. */
async function checkAllSplits(file: string, content: Buffer, splitSize: number, expected: Rec[]): Promise<void> {
  const splits = cut(file, content.length, splitSize);
  const got: Rec[] = [];
  let previousEnd = 0;
  for (const split of splits) {
    const { recs, lines, bytes, records } = await readAll(split);
    expect(bytes, `bytes of ${split.offset}+${split.length}`).toBe(split.length);
    expect(records).toBe(recs.length);
    expect(lines).toEqual(recs.map((_, i) => i + 1));
    for (const rec of recs) {
      expect(rec.offset).toBeGreaterThanOrEqual(split.offset);
      expect(rec.offset).toBeLessThan(split.offset + split.length);
    }
    got.push(...recs);

    const range = await alignSplit(split);
    expect(range.start, `range start of ${split.offset}+${split.length}`).toBe(previousEnd);
    expect(range.end).toBeGreaterThanOrEqual(range.start);
    previousEnd = range.end;
    const fromBuffer: Rec[] = [];
    const bufferResult = readBufferRecords(content.subarray(range.start, range.end), range.start, (line, pos) => {
      fromBuffer.push({ line, offset: pos.offset });
    });
    expect(fromBuffer).toEqual(recs);
    expect(bufferResult).toEqual({ records: recs.length, bytes: range.end - range.start });

    // mapBytes: the same lines as byte ranges, contiguous, covering exactly the split's range.
    const { blocks, bytes: blockBytes, records: blockCount } = await readBlocks(split);
    expect(blockBytes).toBe(split.length);
    expect(blockCount).toBe(blocks.length);
    expect(linesOfBlocks(blocks)).toEqual(recs);
    expect(Buffer.concat(blocks.map((b) => b.bytes)).equals(content.subarray(range.start, range.end))).toBe(true);
    let at = range.start;
    for (const block of blocks) {
      expect(block.offset).toBe(at);
      expect(block.bytes.length).toBeGreaterThan(0);
      at += block.bytes.length;
      if (at < content.length) expect(content[at - 1]).toBe(0x0a);
    }
    const fromBufferBlocks: Block[] = [];
    readBufferBlocks(content.subarray(range.start, range.end), range.start, (buf, start, end, offset) => {
      fromBufferBlocks.push({ bytes: Buffer.from(buf.subarray(start, end)), offset });
    });
    expect(linesOfBlocks(fromBufferBlocks)).toEqual(recs);
  }
  expect(previousEnd).toBe(content.length);
  expect(got).toEqual(expected);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gmr-record-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SMALL_LINES = [
  'hello world',
  '',
  'café au lait é',
  '日本語のテキスト',
  '',
  '',
  'emoji 😀🎉 end',
  'crlf line\r',
  '\r',
  'x',
  'a much longer line that goes on for a while, to span several tiny splits at once: 0123456789',
  'tab\tseparated\tvalues',
  'ünïcödé ✓ 𝄞',
  'last but one',
];

describe('readSplit on a small file, every split size', () => {
  const variants: Array<[string, string]> = [
    ['with a final newline', SMALL_LINES.join('\n') + '\n'],
    ['without a final newline', SMALL_LINES.join('\n') + '\nno newline at the end'],
    ['ending in CRLF', SMALL_LINES.join('\n') + '\r\n'],
    ['ending in a lone \\r without newline', SMALL_LINES.join('\n') + '\nfinal\r'],
    ['starting with empty lines', '\n\n' + SMALL_LINES.join('\n') + '\n\n'],
  ];
  for (const [name, text] of variants) {
    it(`reads every line exactly once (${name})`, async () => {
      const content = Buffer.from(text, 'utf8');
      expect(content.length).toBeGreaterThan(200);
      const file = path.join(dir, `small-${name.replace(/\W+/g, '-')}.txt`);
      await writeFile(file, content);
      const expected = referenceRecords(content);
      expect(expected.length).toBeGreaterThan(10);
      for (let splitSize = 1; splitSize <= content.length + 1; splitSize++) {
        await checkAllSplits(file, content, splitSize, expected);
      }
    });
  }

  it('reads a file that is one newline', async () => {
    const file = path.join(dir, 'newline.txt');
    await writeFile(file, '\n');
    await checkAllSplits(file, Buffer.from('\n'), 1, [{ line: '', offset: 0 }]);
  });
});

/**
 * ~3 MB of random lines (empty ones, CRLF ones, a few long ones, one longer than the read buffer).
 * `nonAscii` is the share of lines with multi-byte characters: the reader decodes all-ASCII blocks
 * of lines differently from the rest, so both kinds of file are read.
 */
function randomLines(seed: number, nonAscii: number): Buffer {
  const next = mulberry32(seed);
  const ascii = [...'abcdefghijklmnopqrstuvwxyz0123456789 ,.;'];
  const wide = [...'éü日本😀'];
  const lines: string[] = [];
  let bytes = 0;
  let longDone = false;
  while (bytes < 3_000_000) {
    let line: string;
    if (!longDone && bytes > 1_200_000) {
      // One line bigger than the 1 MiB read buffer, so the reader has to grow it.
      line = 'L'.repeat(1_500_000);
      longDone = true;
    } else {
      const length = next() < 0.1 ? 0 : Math.floor(next() * (next() < 0.05 ? 5000 : 120));
      const chars = next() < nonAscii ? [...ascii, ...wide] : ascii;
      line = Array.from({ length }, () => chars[Math.floor(next() * chars.length)]).join('');
      if (next() < 0.2) line += '\r';
    }
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(lines.join('\n'), 'utf8');
}

for (const [name, nonAscii] of [
  ['mostly non-ASCII', 0.9],
  ['mostly ASCII', 0.01],
] as const) {
  describe(`readSplit on a larger file, ${name}`, () => {
    let file: string;
    let content: Buffer;
    let expected: Rec[];
    beforeAll(async () => {
      content = randomLines(nonAscii === 0.9 ? 42 : 7, nonAscii);
      file = path.join(dir, `large-${nonAscii}.txt`);
      await writeFile(file, content);
      expected = referenceRecords(content);
    });

    for (const splitSize of [1024 * 1024, 1024 * 1024 - 1, 65_536, 333_333, 777_777, 3_000_000 + 1_000_000]) {
      it(`reads every line exactly once with splits of ${splitSize} bytes`, async () => {
        await checkAllSplits(file, content, splitSize, expected);
      });
    }

    it('reports progress about every MiB, ending at the split length', async () => {
      const progress: number[] = [];
      const split: Split = { index: 0, path: file, offset: 0, length: content.length, compressed: false, fileSize: content.length };
      await readAll(split, progress);
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.length).toBeLessThan(10);
      expect(progress.at(-1)).toBe(content.length);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1] ?? 0);
    });
  });
}

describe('readSplit at read-buffer boundaries', () => {
  it('finds a newline that is the first byte of a new read', async () => {
    // The reader reads 1 MiB at a time; put '\n' at, just before and just after that boundary
    // while a line is carried over from the previous read.
    const MiB = 1024 * 1024;
    for (const shift of [-1, 0, 1, 2]) {
      const text = ['x'.repeat(MiB - 5 + shift), 'yyy', 'z'.repeat(MiB + 7), 'w', ''].join('\n');
      const boundaryContent = Buffer.from(text);
      const boundaryFile = path.join(dir, `boundary${shift}.txt`);
      await writeFile(boundaryFile, boundaryContent);
      for (const splitSize of [boundaryContent.length + 1, MiB, MiB - 1, MiB - 3, 500_000]) {
        await checkAllSplits(boundaryFile, boundaryContent, splitSize, referenceRecords(boundaryContent));
      }
    }
  });
});

describe('readSplit on gzip files', () => {
  it('reads every line of a .gz file, with decompressed offsets', async () => {
    const text = SMALL_LINES.join('\n') + '\n' + 'z'.repeat(700_000) + '\nlast line\r\nno newline';
    const content = Buffer.from(text, 'utf8');
    const gz = gzipSync(content);
    const file = path.join(dir, 'lines.gz');
    await writeFile(file, gz);
    const split: Split = { index: 0, path: file, offset: 0, length: gz.length, compressed: true, fileSize: gz.length };
    const progress: number[] = [];
    const { recs, lines, bytes, records } = await readAll(split, progress);
    expect(recs).toEqual(referenceRecords(content));
    expect(lines).toEqual(recs.map((_, i) => i + 1));
    expect(records).toBe(recs.length);
    expect(bytes).toBe(gz.length);
    expect(progress.at(-1)).toBe(gz.length);
    expect(linesOfBlocks((await readBlocks(split)).blocks)).toEqual(recs);
  });

  it('reads a whole compressed file as its alignSplit range', async () => {
    const gz = gzipSync(Buffer.from('a\nb\n'));
    const file = path.join(dir, 'range.gz');
    await writeFile(file, gz);
    const split: Split = { index: 0, path: file, offset: 0, length: gz.length, compressed: true, fileSize: gz.length };
    expect(await alignSplit(split)).toEqual({ start: 0, end: gz.length });
  });

  it('throws InputError naming the file for data that is not gzip', async () => {
    const file = path.join(dir, 'broken.gz');
    await writeFile(file, 'this is not gzip\n');
    const split: Split = { index: 0, path: file, offset: 0, length: 17, compressed: true, fileSize: 17 };
    const error = await readSplit(split, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toContain(file);
  });
});

describe('readSplit errors', () => {
  const splitOf = (file: string, compressed = false): Split => ({ index: 0, path: file, offset: 0, length: 10, compressed, fileSize: 10 });

  it('throws InputError naming a missing file and the OS error', async () => {
    const file = path.join(dir, 'does-not-exist.txt');
    const error = await readSplit(splitOf(file), () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('GMR_ERR_INPUT');
    expect((error as InputError).message).toContain(file);
    expect((error as InputError).message).toContain('ENOENT');
    await expect(alignSplit({ ...splitOf(file), offset: 5 })).rejects.toBeInstanceOf(InputError);
  });

  it('throws InputError for a path that is a folder', async () => {
    for (const compressed of [false, true]) {
      const error = await readSplit(splitOf(dir, compressed), () => {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toContain(dir);
    }
  });

  it('lets an error thrown by the record callback propagate unchanged', async () => {
    const file = path.join(dir, 'callback.txt');
    await writeFile(file, 'one\ntwo\nthree\n');
    const thrown = new Error('bad record');
    for (const compressed of [false, true]) {
      const target = compressed ? `${file}.gz` : file;
      if (compressed) await writeFile(target, gzipSync(await readFile(file)));
      let seen = 0;
      const error = await readSplit(splitOf(target, compressed), (line) => {
        seen++;
        if (line === 'two') throw thrown;
      }).catch((e: unknown) => e);
      expect(error).toBe(thrown);
      expect(seen).toBe(2);
    }
  });
});

describe('readBufferRecords', () => {
  it('reads whole lines with CRLF stripped and offsets from the base', () => {
    const recs: Array<[string, RecordPosition]> = [];
    const result = readBufferRecords(Buffer.from('a\r\n\nbé\nc'), 100, (line, pos) => recs.push([line, pos]));
    expect(recs).toEqual([
      ['a', { line: 1, offset: 100 }],
      ['', { line: 2, offset: 103 }],
      ['bé', { line: 3, offset: 104 }],
      ['c', { line: 4, offset: 108 }],
    ]);
    expect(result).toEqual({ records: 4, bytes: 9 });
  });

  it('gives no record for an empty buffer', () => {
    expect(readBufferRecords(Buffer.alloc(0), 0, () => {})).toEqual({ records: 0, bytes: 0 });
  });
});

describe('linesIn (the lines of a mapBytes block, for the summary)', () => {
  it("counts the '\\n's of the range and a last line without one, never a '\\n' outside it", () => {
    const buf = Buffer.from('x\nab\n\ncd\nef\n\n');
    expect(linesIn(buf, 0, buf.length)).toBe(6);
    expect(linesIn(buf, 2, 5)).toBe(1); // 'ab\n'
    expect(linesIn(buf, 2, 8)).toBe(3); // 'ab\n\ncd', the last without its '\n'
    expect(linesIn(buf, 3, 4)).toBe(1); // 'b'
    expect(linesIn(buf, 4, 4)).toBe(0);
    expect(linesIn(buf, 9, 11)).toBe(1); // 'ef' (the '\n's after it are outside)
  });
});
