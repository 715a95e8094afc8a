/**
 * The result on stdout comes in the order of the parts: keys in natural order (docs/WIRE.md,
 * "Order"; string keys by their UTF-8 bytes), as the reducers see them. Keys like `a"b` and `a#`,
 * or `a b` and `a`, sort one way as text and the other way as JSON; the stdout merge follows the
 * reducers' key lists, not the text of the output lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../../src/mapreduce/driver/run-job.ts';
import { REPO_ROOT } from '../../helpers/gmr-cli.ts';

const JOB = join(REPO_ROOT, 'test/fixtures/jobs/line-keys.ts');
const KEYS = ['a"b', 'a#', 'a b', 'a', 'a!', 'b\\c', 'b]', 'zz', 'Z', 'é', 'e', '12', '9', '[1]'];

/** key<TAB>count lines sorted by the UTF-8 bytes of the key (natural order of strings), by python3. */
function reference(path: string): string {
  const script = `
import sys, collections
c = collections.Counter(l for l in open(sys.argv[1], encoding='utf-8').read().split('\\n') if l)
for k in sorted(c, key=lambda k: k.encode('utf-8')):
    sys.stdout.write(f"{k}\\t{c[k]}\\n")
`;
  return execFileSync('python3', ['-c', script, path], { encoding: 'utf8' });
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('stdout merge', () => {
  it('writes keys in the order the parts hold them (natural key order), with 2 mappers and 3 reducers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-order-'));
    dirs.push(dir);
    const input = join(dir, 'keys.txt');
    writeFileSync(input, `${KEYS.flatMap((k, i) => Array.from({ length: 1 + (i % 3) }, () => k)).join('\n')}\n`);
    const expected = reference(input);
    let text = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const options = { job: JOB, input: [input], workers: 2, reducers: 3, splitSize: 40 };
    const summary = await runJob({ ...options, stdout });
    expect(summary.mapTasks).toBeGreaterThanOrEqual(2);
    expect(text).toBe(expected);

    // Each part, on its own, is in that same order: stdout is their merge.
    const out = join(dir, 'out');
    await runJob({ ...options, output: out });
    const order = expected.split('\n').filter(Boolean);
    const parts = readdirSync(out).filter((n) => n.startsWith('part-'));
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      const lines = readFileSync(join(out, part), 'utf8').split('\n').filter(Boolean);
      expect(lines).toEqual(order.filter((l) => lines.includes(l)));
    }
  });
});
