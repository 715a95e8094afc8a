/**
 * Poison records: two lines make the mapper throw. With --max-bad-records 2 the run skips them
 * (after --max-attempts tries each), lists them in `_bad_records` with path, line and byte offset,
 * and its output equals the reference computed without those lines. With a budget of 1 it fails
 * naming the limit; without the flag it fails naming the record's file and line.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { Harness, SLOW_JOB, checkManifest, committedOutput, exitOf, readManifest, slowCorpus, type Manifest } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

interface Poison {
  path: string;
  line: number;
  offset: number;
}

/** Puts `text` in as line `line` (1-based) of `path`; where it landed. */
function insertLine(path: string, line: number, text: string): Poison {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.splice(line - 1, 0, text);
  writeFileSync(path, lines.join('\n'));
  return { path, line, offset: Buffer.byteLength(lines.slice(0, line - 1).map((l) => `${l}\n`).join('')) };
}

describe('records whose mapper throws (embedded)', () => {
  it('are skipped within --max-bad-records and listed; over the limit or without it the run fails', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    // The reference comes from the files as they are before the poison goes in.
    const clean = join(dir, 'clean');
    mkdirSync(clean);
    const cleanFiles = input.files.map((f, i) => {
      const copy = join(clean, `${i}.txt`);
      writeFileSync(copy, readFileSync(f));
      return copy;
    });
    const expected = referenceWordcount(cleanFiles);
    const poison = [insertLine(input.files[0] as string, 123, 'gearman POISON one'), insertLine(input.files[1] as string, 57, 'map reduce POISON two')];
    const run = (extra: string[]): ReturnType<Harness['gmr']> =>
      h.gmr(['run', SLOW_JOB, '--input', input.dir, '--workers', '2', '--reducers', '2', '--split-size', '3k', '--param', 'poison=POISON', '--quiet', ...extra]);

    const out = join(dir, 'out');
    const ok = run(['--output', out, '--max-bad-records', '2']);
    expect((await exitOf(ok)).code, ok.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    const manifest = readManifest(out);
    // input.records was counted before the poison went in: skipped lines are not records of the run.
    checkManifest(manifest, input, expected);
    const listed = readFileSync(join(out, '_bad_records'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Manifest['badRecords'][number]);
    const byOffset = (a: Poison, b: Poison): number => a.path.localeCompare(b.path) || a.offset - b.offset;
    const where = (r: Poison): Poison => ({ path: r.path, line: r.line, offset: r.offset });
    expect(listed.map(where).sort(byOffset)).toEqual([...poison].sort(byOffset));
    expect(manifest.badRecords.map(where).sort(byOffset)).toEqual([...poison].sort(byOffset));
    for (const r of listed) expect(r.message).toContain('poisoned record');
    // Each poisoned task failed --max-attempts (3) times on its record, then ran through without it.
    const poisoned = manifest.tasks.filter((t) => t.attempts.length > 1);
    expect(poisoned.map((t) => t.index).sort()).toEqual(listed.map((r) => r.task).sort());
    for (const t of poisoned) {
      expect(t.attempts).toHaveLength(4);
      for (const a of t.attempts.slice(0, 3)) expect(a.error).toContain('poisoned record');
    }

    const out1 = join(dir, 'out1');
    const over = run(['--output', out1, '--max-bad-records', '1']);
    expect((await exitOf(over)).code).toBe(1);
    expect(over.stderr()).toContain('More than 1 bad record (--max-bad-records)');
    // No output: only the failed run's status stays, for gmr status --all.
    expect(readdirSync(out1)).toEqual(['_history']);

    const strict = run([]);
    expect((await exitOf(strict)).code).toBe(1);
    expect(strict.stdout()).toBe('');
    const named = poison.filter((p) => new RegExp(`${p.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@\\d+\\+\\d+, line ${p.line} \\(byte ${p.offset}\\)`).test(strict.stderr()));
    expect(named, strict.stderr()).toHaveLength(1);
    expect(strict.stderr()).toContain('3 attempts');
  });
});
