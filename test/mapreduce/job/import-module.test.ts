/**
 * import-module.ts in a plain Node process (compiled dist/, as an installed gmr runs): a job
 * module's 'gmr' and 'gmr/protocol' are the very module instances the running gmr holds, wherever
 * the job sits and whatever node_modules/gmr is next to it; an unknown subpath names the known ones.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as gmrHere from 'gmr';
import * as protocolHere from 'gmr/protocol';
import { importModule } from '../../../src/mapreduce/job/import-module.ts';
import { REPO_ROOT, userEnv } from '../../helpers/gmr-cli.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gmr-import-'));
  // A second gmr right next to the job: Node's own resolution would pick it.
  mkdirSync(path.join(dir, 'node_modules', 'gmr'), { recursive: true });
  writeFileSync(path.join(dir, 'node_modules', 'gmr', 'package.json'), '{ "name": "gmr", "type": "module", "exports": { ".": "./x.js", "./protocol": "./x.js" } }\n');
  writeFileSync(path.join(dir, 'node_modules', 'gmr', 'x.js'), 'export const defineJob = "second copy", PacketParser = "second copy";\n');
  writeFileSync(
    path.join(dir, 'seen.ts'),
    "import * as gmr from 'gmr';\nimport * as protocol from 'gmr/protocol';\nexport const seen = { gmr, protocol };\nexport default gmr.defineJob({ map: (line: string, ctx) => ctx.emit(line, 1) });\n",
  );
  writeFileSync(path.join(dir, 'seen-js.mjs'), "import * as gmr from 'gmr';\nexport const seen = { gmr };\n");
  writeFileSync(path.join(dir, 'unknown.ts'), "import x from 'gmr/internals';\nexport default x;\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` as an ES module in a fresh Node with the compiled gmr's import-module and entries bound. */
function inNode(body: string): Promise<string> {
  const dist = path.join(REPO_ROOT, 'dist', 'src');
  const script = `
    const { importModule } = await import(${JSON.stringify(path.join(dist, 'mapreduce', 'job', 'import-module.js'))});
    const gmr = await import(${JSON.stringify(path.join(dist, 'index.js'))});
    const protocol = await import(${JSON.stringify(path.join(dist, 'protocol', 'index.js'))});
    const dir = ${JSON.stringify(dir)};
    ${body}
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: userEnv(), encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('importModule', () => {
  it("gives .ts and .mjs job modules the running gmr's own module instances", async () => {
    const out = await inNode(`
      const ts = await importModule(dir + '/seen.ts');
      const js = await importModule(dir + '/seen-js.mjs');
      console.log(JSON.stringify([ts.seen.gmr.defineJob === gmr.defineJob, ts.seen.protocol.PacketParser === protocol.PacketParser,
        js.seen.gmr.JobServer === gmr.JobServer, typeof ts.default.map]));
    `);
    expect(JSON.parse(out)).toEqual([true, true, true, 'function']);
  });

  it('under vitest (gmr running from its sources) hands a job the gmr this test imports', async () => {
    const mod = (await importModule(path.join(dir, 'seen.ts'))) as { seen: { gmr: typeof gmrHere; protocol: typeof protocolHere } };
    expect(mod.seen.gmr.defineJob).toBe(gmrHere.defineJob);
    expect(mod.seen.protocol.PacketParser).toBe(protocolHere.PacketParser);
  });

  it('answers an unknown gmr/ subpath with the subpaths that exist', async () => {
    const out = await inNode(`
      try { await importModule(dir + '/unknown.ts'); console.log('loaded'); } catch (e) { console.log(e.message); }
    `);
    expect(out.trim()).toBe(`Cannot import "gmr/internals": the running gmr (${REPO_ROOT.replace(/\/$/, '')}) exports gmr, gmr/protocol, gmr/package.json`);
  });
});
