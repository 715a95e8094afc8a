/**
 * The run workspace lets go of the output folder whatever happens: a plan that cannot be written
 * (a full disk) fails the run with that error, and the next run on the same folder, from the same
 * program, is not refused as "another gmr run" by a lock that leaked.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runJob } from '../../../src/mapreduce/driver/run-job.ts';

vi.mock('../../../src/mapreduce/driver/run-state.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/mapreduce/driver/run-state.ts')>();
  return {
    ...real,
    writePlan: async (): Promise<void> => {
      throw new Error('ENOSPC: no space left on device, write');
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('RunWorkspace', () => {
  it('releases the output lock when writing the plan throws, so the next run is not refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmr-workspace-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'in.txt'), 'a b\nb c\n');
    const out = join(dir, 'out');
    const options = { job: 'wordcount', input: [join(dir, 'in.txt')], output: out, workers: 2, reducers: 2 };
    await expect(runJob(options)).rejects.toThrow(/no space left on device/);
    // Not "Another gmr run (pid <this process>) is writing to …": the lock was released.
    await expect(runJob(options)).rejects.toThrow(/no space left on device/);
    expect(existsSync(join(out, '_temporary'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});
