/**
 * The WebAssembly module WordCounts runs (jobs/lib/word-scan-wasm.ts) is what scripts/build-wasm.mjs
 * makes of jobs/lib/word-scan.wat now: an edit of the .wat without `npm run build` fails here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORD_SCAN_WASM } from '../../../jobs/lib/word-scan-wasm.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('word-scan-wasm.ts', () => {
  it('holds the bytes that the build makes of word-scan.wat', () => {
    const made = execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--print'], { cwd: root, encoding: 'utf8' });
    expect(readFileSync(`${root}/jobs/lib/word-scan-wasm.ts`, 'utf8')).toBe(made);
    const bytes = Buffer.from(WORD_SCAN_WASM, 'base64');
    // A WebAssembly binary: "\0asm", version 1.
    expect([...bytes.subarray(0, 8)]).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(made).toContain(`'${bytes.toString('base64')}'`);
  });
});
