/**
 * A streaming map task's two ends: which bytes the command reads (the lines a split owns, a .gz
 * decompressed, shipped bytes, a final newline added) and how its lines become pairs
 * (--separator, --key-fields, a line without separator) and partials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MapTaskHeader } from '../../../src/mapreduce/shuffle/task-protocol.ts';
import { pairLine, runStreamingMap, splitPair, type CommandSetting } from '../../../src/mapreduce/task/streaming-map.ts';
import { TaskState } from '../../../src/mapreduce/task/task-state.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-streaming-map-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function setting(mapper: string[], reducer?: string[]): CommandSetting {
  return {
    spec: { mapper, ...(reducer ? { reducer } : {}), separator: '\t', keyFields: 1 },
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    maxLineBytes: 1 << 20,
    state: new TaskState({}),
  };
}

function header(path: string, offset: number, length: number, extra: Partial<MapTaskHeader> = {}): MapTaskHeader {
  return { v: 4, unique: 'u', run: 'r', job: 'stream-x', task: 0, partitions: 2, params: {}, split: { path, offset, length, compressed: false }, ...extra };
}

/** Runs a map-only `cat` over one split and returns what came out. */
async function catSplit(h: MapTaskHeader, body = Buffer.alloc(0)): Promise<string> {
  const chunks: Buffer[] = [];
  await runStreamingMap(setting(['cat']), h, body, {
    partial: () => {
      throw new Error('a map-only task sends no partials');
    },
    output: async (chunk) => {
      chunks.push(Buffer.from(chunk));
    },
    progress: () => {},
  });
  return Buffer.concat(chunks).toString('utf8');
}

describe('splitPair and pairLine', () => {
  it("split at the key-fields'th separator, and give a line without one as key with an empty value", () => {
    expect(splitPair('a\tb\tc', '\t', 1)).toEqual(['a', 'b\tc']);
    expect(splitPair('a,b,c', ',', 2)).toEqual(['a,b', 'c']);
    expect(splitPair('a::b', '::', 1)).toEqual(['a', 'b']);
    expect(splitPair('alone', '\t', 1)).toEqual(['alone', '']);
    expect(splitPair('a,b', ',', 2)).toEqual(['a,b', '']);
    expect(pairLine('k', '', '\t')).toBe('k\n');
    expect(pairLine('k', 'v', ',')).toBe('k,v\n');
  });
});

describe('runStreamingMap input', () => {
  it('feeds each split exactly the lines it owns, so the splits together are the file', async () => {
    const text = 'first line\nsecond\n\nfourth, longer line\nlast without newline';
    const path = join(dir, 'lines.txt');
    writeFileSync(path, text);
    const pieces: string[] = [];
    for (const [offset, length] of [[0, 7], [7, 7], [14, 7], [21, text.length - 21]] as const) pieces.push(await catSplit(header(path, offset, length)));
    // Lines start at 0, 11, 18, 19, 40: split [0,7) owns the first, [7,14) the second, [14,21) two.
    expect(pieces).toEqual(['first line\n', 'second\n', '\nfourth, longer line\n', 'last without newline\n']);
  });

  it('decompresses a .gz split and shipped bytes, plain or gzipped', async () => {
    const text = 'x 1\ny 2\nz 3';
    const gz = join(dir, 'a.txt.gz');
    writeFileSync(gz, gzipSync(text));
    expect(await catSplit({ ...header(gz, 0, 10), split: { path: gz, offset: 0, length: 10, compressed: true } })).toBe(`${text}\n`);
    expect(await catSplit(header('/elsewhere/a.txt', 0, 10, { shipped: { start: 0 } }), Buffer.from(text))).toBe(`${text}\n`);
    expect(await catSplit({ ...header('/elsewhere/a.gz', 0, 10, { shipped: { start: 0 } }), split: { path: '/elsewhere/a.gz', offset: 0, length: 10, compressed: true } }, gzipSync(text))).toBe(`${text}\n`);
  });

  it('writes pairs as sorted JSON-string partials per partition', async () => {
    const path = join(dir, 'pairs.txt');
    writeFileSync(path, 'b\t2\na\t1\nb\t3\nsolo\n');
    const parts = new Map<number, string>();
    const summary = await runStreamingMap(setting(['cat'], ['cat']), header(path, 0, 20), Buffer.alloc(0), {
      partial: (p, chunk) => parts.set(p, (parts.get(p) ?? '') + chunk.toString('utf8')),
      output: async () => {},
      progress: () => {},
    });
    expect(summary.records).toBe(4);
    expect(summary.emitted).toBe(4);
    // FNV-1a of '"a"' is 0x61A1CFEA (docs/WIRE.md's test vector): partition 0 of 2.
    const lines = [...parts.values()].join('').split('\n').filter(Boolean).sort();
    expect(lines).toEqual(['"a"\t"1"', '"b"\t"2"', '"b"\t"3"', '"solo"\t""']);
    expect(parts.get(0)).toContain('"a"\t"1"\n');
  });
});
