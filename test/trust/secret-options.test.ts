/**
 * Secure is the default: how gmr run and gmr worker get the run secret, and what they refuse.
 * A worker or a --servers run without a secret, --insecure towards a job server off loopback, a
 * secret file others can read or a secret too short all fail at once (usage, exit 64) with one
 * line that says what to do; the embedded default signs with a fresh secret, and --insecure there
 * runs unsigned and says so in the manifest.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { runGmr } from '../helpers/gmr-cli.ts';
import { referenceWordcount } from '../helpers/reference.ts';
import { committedOutput } from '../helpers/harness.ts';

let dir: string;
let files: string[];
const NO_SECRET = { GMR_SECRET: '' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-secret-'));
  files = writeCorpus(join(dir, 'in'), 5, 200);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the run secret', () => {
  it('gmr worker without one refuses to start, naming --secret-file, GMR_SECRET and --insecure', async () => {
    const r = await runGmr(['worker', '--servers', '127.0.0.1:1', '--jobs', 'wordcount'], { env: NO_SECRET });
    expect(r.code).toBe(64);
    expect(r.stderr).toBe('gmr: gmr worker needs the run secret: --secret-file FILE or GMR_SECRET (the driver\'s), or --insecure for unsigned tasks on a trusted machine\n');
  });

  it('gmr run --servers without one refuses before reaching the servers', async () => {
    const r = await runGmr(['run', 'wordcount', '-i', join(dir, 'in'), '--servers', '127.0.0.1:1'], { env: NO_SECRET });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^gmr: gmr run --servers needs the run secret its workers were started with: --secret-file FILE or GMR_SECRET \(or --insecure, for job servers on loopback only\)\n$/);
  });

  it('--insecure is refused for a job server off loopback', async () => {
    const r = await runGmr(['run', 'wordcount', '-i', join(dir, 'in'), '--servers', '127.0.0.1:1,192.0.2.7:4730', '--insecure']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^gmr: --insecure runs unsigned tasks, so it is only for job servers on this machine's loopback; 192\.0\.2\.7:4730 is not: give the run secret instead/);
  });

  it('a secret file others can read, or a secret shorter than 16 bytes, is refused', async () => {
    const loose = join(dir, 'loose-secret');
    writeFileSync(loose, 'a perfectly long secret text here\n');
    chmodSync(loose, 0o644);
    const a = await runGmr(['worker', '--servers', '127.0.0.1:1', '--jobs', 'wordcount', '--secret-file', loose], { env: NO_SECRET });
    expect(a.code).toBe(64);
    expect(a.stderr).toBe(`gmr: --secret-file ${loose} is readable by others (mode 644): chmod 600 it\n`);
    const short = join(dir, 'short-secret');
    writeFileSync(short, 'tooshort\n');
    chmodSync(short, 0o600);
    const b = await runGmr(['worker', '--servers', '127.0.0.1:1', '--jobs', 'wordcount', '--secret-file', short], { env: NO_SECRET });
    expect(b.code).toBe(64);
    expect(b.stderr).toBe(`gmr: Run secret from ${short}: expected at least 16 bytes (e.g. openssl rand -hex 32), received 8\n`);
  });

  it('the embedded default signs with a fresh secret; --insecure runs unsigned, and the manifests say which', async () => {
    for (const [flags, signed] of [[[], true], [['--insecure'], false]] as const) {
      const out = join(dir, `out-${signed}`);
      const r = await runGmr(['run', 'wordcount', '-i', join(dir, 'in'), '-o', out, '--workers', '2', '--reducers', '2', '--split-size', '2k', '--quiet', ...flags], { env: NO_SECRET });
      expect(r.code, r.stderr).toBe(0);
      expect(committedOutput(out)).toBe(referenceWordcount(files));
      const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as { signed: boolean; mode: string };
      expect(manifest).toMatchObject({ signed, mode: 'embedded' });
    }
  }, 180_000);
});
