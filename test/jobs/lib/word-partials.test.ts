/**
 * writeWordPartials (wordcount's map output straight from its table's bytes) writes what docs/WIRE.md
 * says a partial run is, checked against Python: `"word" TAB count LF` per word, in partition
 * FNV-1a("\"word\"") mod partitions, sorted by the word's UTF-8 bytes within a partition.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PartialSink } from '../../../src/mapreduce/job/define-job.ts';
import { WordCounts } from '../../../jobs/lib/word-counts.ts';
import { writeWordPartials } from '../../../jobs/lib/word-partials.ts';
import { generateText } from '../../helpers/corpus.ts';
import { PYTHON_WORD_COUNTER } from '../../helpers/reference.ts';

/** Reference: the runs by Python (words as in word-counts.test.ts), one line `partition TAB line` each. */
const PYTHON_RUNS = `
import sys
text = open(sys.argv[1], 'rb').read().decode('utf-8')
partitions = int(sys.argv[2])
${PYTHON_WORD_COUNTER}
def fnv(bs):
    h = 2166136261
    for b in bs:
        h = ((h ^ b) * 16777619) % 2**32
    return h
runs = [[] for _ in range(partitions)]
for w in sorted(counts, key=lambda w: w.encode('utf-8')):
    enc = ('"' + w + '"').encode('utf-8')
    runs[fnv(enc) % partitions].append(enc + b'\\t' + str(counts[w]).encode() + b'\\n')
for p, run in enumerate(runs):
    sys.stdout.buffer.write(str(p).encode() + b' ' + str(len(run)).encode() + b'\\n' + b''.join(run))
`;

function collect(partitions: number): { sink: PartialSink; runs: Buffer[][] } {
  const runs: Buffer[][] = Array.from({ length: partitions }, () => []);
  return { sink: { partitions, write: (p, lines) => runs[p]?.push(Buffer.from(lines)) }, runs };
}

async function pythonRuns(text: string, partitions: number): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gmr-word-partials-'));
  try {
    const file = path.join(dir, 'text.txt');
    await writeFile(file, text);
    const out = execFileSync('python3', ['-c', PYTHON_RUNS, file, String(partitions)], { encoding: 'utf8' });
    const runs: string[] = [];
    const lines = out.split('\n');
    for (let i = 0; i < lines.length - 1; ) {
      const n = Number((lines[i] as string).split(' ')[1]);
      runs.push(lines.slice(i + 1, i + 1 + n).map((l) => `${l}\n`).join(''));
      i += 1 + n;
    }
    return runs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('writeWordPartials', () => {
  it("writes Python's runs: prefixes, long shared prefixes, '_', apostrophes, non-ASCII, 2 and 3 partitions", async () => {
    const text = [
      "The a_b A_B _ __init__ don't 'quoted' '' abcde abcdef abcdea abcdeZ abcd_e abcd'e abcd abc ab a",
      'café CAFÉ naïve 日本語 日本 x1 1x 0 00 ÀB àb zzzzzz zzzzz zzzzzy',
      // Runs of more than 16 keys tied 9 bytes in (sorted deeper) and 70 bytes in (compared).
      Array.from({ length: 30 }, (_, i) => `intervalx${String.fromCharCode(0x61 + (i % 26))}${i}`).join(' '),
      Array.from({ length: 20 }, (_, i) => `${'q'.repeat(70)}${19 - i}_`).join(' '),
      generateText(3, 400),
    ].join('\n');
    for (const partitions of [2, 3]) {
      const table = new WordCounts(16);
      const bytes = Buffer.from(text, 'utf8');
      table.addBytes(bytes, 0, bytes.length);
      const { sink, runs } = collect(partitions);
      writeWordPartials(table, sink);
      const expected = await pythonRuns(text, partitions);
      expect(expected.length).toBe(partitions);
      for (let p = 0; p < partitions; p++) {
        expect((expected[p] as string).length).toBeGreaterThan(0);
        expect(Buffer.concat(runs[p] as Buffer[]).toString('utf8')).toBe(expected[p]);
      }
    }
  });

  it('writes counts past 2^32 as JSON numbers, and a key longer than one write', () => {
    const table = new WordCounts(16);
    table.addWord('big', 2 ** 40);
    table.addWord('big', 5);
    table.addWord('small', 3);
    const long = 'w'.repeat((1 << 20) + 10);
    table.addWord(long);
    const { sink, runs } = collect(1);
    writeWordPartials(table, sink);
    expect(Buffer.concat(runs[0] as Buffer[]).toString('utf8')).toBe(`"big"\t${2 ** 40 + 5}\n"small"\t3\n"${long}"\t1\n`);
  });
});
