/**
 * The import rules of .dependency-cruiser.cjs hold for src/ and jobs/, and the check really fails:
 * on a hand-made tree with an upward type-only import, a driver -> task import and a circle, it
 * names each of them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gmr-cli.ts';

const run = promisify(execFile);
const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

async function depcruise(cwd: string, paths: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(DEPCRUISE, ['--config', CONFIG, '--output-type', 'err', ...paths], { cwd, encoding: 'utf8' });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gmr-layers-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('import rules', () => {
  it('hold for src/ and jobs/', async () => {
    const result = await depcruise(REPO_ROOT, ['src', 'jobs']);
    expect(result.out).toContain('no dependency violations found');
    expect(result.code).toBe(0);
  });

  it('fail on an upward import (type-only too), on driver -> task and on a circle', async () => {
    const root = tree({
      'tsconfig.json': '{ "compilerOptions": { "allowImportingTsExtensions": true, "noEmit": true } }\n',
      'src/errors.ts': 'export class GearmanError extends Error {}\n',
      'src/client/client.ts': "import { GearmanError } from '../errors.ts';\nexport class Client { e = GearmanError; }\n",
      'src/protocol/parser.ts': "import type { Client } from '../client/client.ts';\nexport type Peer = Client;\n",
      'src/mapreduce/task/map-task.ts': 'export const runMap = 1;\n',
      'src/mapreduce/driver/run-job.ts': "import { runMap } from '../task/map-task.ts';\nexport const runJob = runMap;\n",
      'src/mapreduce/job/a.ts': "import { b } from './b.ts';\nexport const a = (): number => b();\n",
      'src/mapreduce/job/b.ts': "import { a } from './a.ts';\nexport const b = (): number => a();\n",
    });
    const result = await depcruise(root, ['src']);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain('protocol-below-roles: src/protocol/parser.ts → src/client/client.ts');
    expect(result.out).toContain('driver-and-task-apart: src/mapreduce/driver/run-job.ts → src/mapreduce/task/map-task.ts');
    expect(result.out).toMatch(/no-circular: src\/mapreduce\/job\/[ab]\.ts → /);
  });
});
