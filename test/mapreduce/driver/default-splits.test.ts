/**
 * The default split size as a run plans it (issue 15): a job with a combiner gets one split per
 * worker, since every extra map task builds its table again and re-emits its whole vocabulary; a
 * job without one keeps about two per worker. 17 MiB of text, 2 workers, 2 reducers; counts from
 * perl (on one copy of the text, times the copies).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from '../../helpers/corpus.ts';
import { runGmr } from '../../helpers/gmr-cli.ts';

const MiB = 1024 * 1024;
const COPIES = 136;

type Summary = { tasks: Array<{ phase: string; input?: string }> };
const mapInputs = (stderr: string): string[] => (JSON.parse(stderr) as Summary).tasks.filter((t) => t.phase === 'map').map((t) => t.input ?? '');

describe('default split size, planned by gmr run', () => {
  let dir: string;
  let input: string;
  let chunk: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gmr-default-splits-'));
    input = join(dir, 'text.txt');
    // One chunk of about 131 kB, 136 times: about 17 MiB.
    chunk = generateText(7, 2600);
    writeFileSync(input, chunk.repeat(COPIES));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives wordcount (a combiner) one map task per worker, with the counts perl gives', async () => {
    const size = Buffer.byteLength(chunk) * COPIES;
    expect(size).toBeGreaterThan(16 * MiB + 1); // above 2 x the 8 MiB floor, so the rule decides
    const script = 'while (/([\\p{L}\\p{Nd}_\\x27]+)/g) { $c{lc $1}++ } END { print "$_\\t$c{$_}\\n" for keys %c }';
    const once = execFileSync('perl', ['-CSDA', '-ne', script], { input: chunk, encoding: 'utf8' }).split('\n').filter(Boolean);
    const reference = once.map((line) => line.replace(/\t(\d+)$/, (_, n: string) => `\t${Number(n) * COPIES}`)).sort();
    const r = await runGmr(['run', 'wordcount', '--input', input, '--workers', '2', '--reducers', '2', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(reference);
    expect(mapInputs(r.stderr)).toHaveLength(2);
  });

  it('keeps about two map tasks per worker for grep (no combiner), none under 8 MiB', async () => {
    const r = await runGmr(['run', 'grep', '--input', input, '--param', 'pattern=^no such line$', '--workers', '2', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(mapInputs(r.stderr)).toHaveLength(3); // 17 MiB in splits of 8 MiB (2 per worker would be 4.25 MiB)
  });
});
