/**
 * A user module's bundle bakes in the file URLs of the gmr that built it: another gmr sharing the
 * cache folder (another install, or dist/src/ beside dist/bundle/ in a checkout) gets a bundle of
 * its own, never one that imports the first one's modules. A module that imports only job-authoring
 * names from 'gmr' gets them from the bundled gmr's job API entry (no job server, client or driver).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModule } from '../../../src/mapreduce/job/module-bundle.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-module-bundle-'));
  mkdirSync(join(dir, 'cache'), { mode: 0o700 });
  writeFileSync(join(dir, 'client-job.ts'), "import { defineJob, Client } from 'gmr';\nexport const c = Client;\nexport default defineJob({ map(line: string, ctx) { ctx.emit(line, 1); } });\n");
  writeFileSync(join(dir, 'job.ts'), "import { defineJob } from 'gmr';\nexport default defineJob({ map(line: string, ctx) { ctx.emit(line, 1); } });\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundledModule', () => {
  const options = (url: string): Parameters<typeof bundledModule>[1] => ({
    id: 'test-compiler',
    esbuild: createRequire(import.meta.url).resolve('esbuild'),
    dir: join(dir, 'cache'),
    specifiers: { gmr: url },
  });

  it('keys the bundle by the gmr URLs it imports as well as by the module', async () => {
    const a = await bundledModule(join(dir, 'job.ts'), options('file:///install-a/dist/bundle/index.js'));
    const b = await bundledModule(join(dir, 'job.ts'), options('file:///install-b/dist/src/index.js'));
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(b).not.toBe(a);
    expect(readFileSync(a as string, 'utf8')).toContain('"file:///install-a/dist/bundle/index.js"');
    expect(readFileSync(b as string, 'utf8')).toContain('"file:///install-b/dist/src/index.js"');
    expect(readFileSync(b as string, 'utf8')).not.toContain('install-a');
    // The same gmr again: the same entry, from the cache.
    expect(await bundledModule(join(dir, 'job.ts'), options('file:///install-a/dist/bundle/index.js'))).toBe(a);
  });

  it('points a bundle whose gmr names are all job API names at the job API entry, and any other at the full entry', async () => {
    const jobApi = { url: 'file:///install-c/dist/bundle/job-api.js', names: ['defineJob', 'step', 'UsageError'] };
    const full = 'file:///install-c/dist/bundle/index.js';
    const slim = await bundledModule(join(dir, 'job.ts'), { ...options(full), jobApi });
    const text = readFileSync(slim as string, 'utf8');
    expect(text).toContain(`from "${jobApi.url}";`);
    expect(text).not.toContain(full);
    const other = await bundledModule(join(dir, 'client-job.ts'), { ...options(full), jobApi });
    expect(readFileSync(other as string, 'utf8')).toContain(`from "${full}";`);
    expect(readFileSync(other as string, 'utf8')).not.toContain(jobApi.url);
  });
});
