/**
 * Modules have an identity: two files named report.ts are two jobs to gmr. A driver with b/report.ts
 * stops before any task runs when workers serve a/report.ts, a worker refuses a task of another
 * version naming both hashes, and a user file never takes a built-in's name.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.ts';
import { JobExceptionError } from '../../src/errors.ts';
import { loadJob } from '../../src/mapreduce/job/load-job.ts';
import { encodeTask, mapFunctionName, WIRE_VERSION } from '../../src/mapreduce/shuffle/task-protocol.ts';
import { startTaskWorker } from '../../src/mapreduce/task/task-worker.ts';
import { JobServer } from '../../src/server/job-server.ts';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { runGmr, spawnGmr, TEST_SECRET } from '../helpers/gmr-cli.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { AdminClient } from '../../src/client/admin-client.ts';

const module = (word: string): string => `// report: counts lines as "${word}"
export default {
  map(line: string, ctx: { emit(key: string, value: number): void }): void { ctx.emit('${word}', 1); },
  combine: (a: number, b: number): number => a + b,
  reduce: (_key: string, values: number[]): number => values.reduce((a, b) => a + b, 0),
};
`;

let dir: string;
let gearmand: GearmandHandle;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-modules-'));
  for (const [sub, word] of [['a', 'old'], ['b', 'new']] as const) {
    mkdirSync(join(dir, sub));
    writeFileSync(join(dir, sub, 'report.ts'), module(word));
  }
  mkdirSync(join(dir, 'in'));
  writeFileSync(join(dir, 'in', 'x.txt'), 'one\ntwo\nthree\n');
  gearmand = await startGearmand();
});
afterAll(async () => {
  await gearmand?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('module identity', () => {
  it('the preflight names the workers that serve another version of report.ts, before any task runs', async () => {
    const worker = spawnGmr(['worker', '--servers', gearmand.address, '--jobs', join(dir, 'a', 'report.ts'), '--input-root', dir, '--quiet']);
    try {
      const admin = new AdminClient({ host: gearmand.host, port: gearmand.port });
      await waitFor(async () => (await admin.status()).some((s) => s.function === 'gmr.map.report' && s.workers > 0), 'the worker to register', 90_000);
      await admin.close();
      const r = await runGmr(['run', join(dir, 'b', 'report.ts'), '-i', join(dir, 'in'), '--servers', gearmand.address, '--reducers', '2', '--quiet']);
      expect(r.code).not.toBe(0);
      const theirs = sha256(join(dir, 'a', 'report.ts')).slice(0, 12);
      const mine = sha256(join(dir, 'b', 'report.ts')).slice(0, 12);
      expect(r.stderr).toContain(`workers on ${gearmand.address} serve another version of report.ts (module sha256 ${theirs} there, ${mine} here)`);
      expect(r.stdout).toBe('');
    } finally {
      worker.kill('SIGKILL');
    }
  }, 240_000);

  it('a worker refuses a task of another version of its module, naming both hashes', async () => {
    const server = await JobServer.listen({ port: 0 });
    const secret = Buffer.from(TEST_SECRET);
    const tw = await startTaskWorker({ servers: [server.address], jobs: [join(dir, 'a', 'report.ts')], secret, inputRoots: [dir] });
    const client = new Client({ servers: [server.address] });
    try {
      const header = {
        v: WIRE_VERSION, unique: 'mod-1', run: 'r', job: 'report', task: 0, partitions: 2, params: {},
        split: { path: join(dir, 'in', 'x.txt'), offset: 0, length: 14, compressed: false },
        module: { sha256: sha256(join(dir, 'b', 'report.ts')), gmr: '0.1.0' },
      };
      const error = await client.submit(mapFunctionName('report'), encodeTask(header, undefined, secret), { unique: 'mod-1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobExceptionError);
      const text = (error as JobExceptionError).exception.subarray(65).toString('utf8');
      expect(text).toContain(
        `Refused a task for another version of ${join(dir, 'a', 'report.ts')}: the driver's module has sha256 ${sha256(join(dir, 'b', 'report.ts')).slice(0, 12)} (gmr 0.1.0), this worker's ${sha256(join(dir, 'a', 'report.ts')).slice(0, 12)}`,
      );
    } finally {
      await client.close();
      await tw.close();
      await server.close();
    }
  }, 240_000);

  it('a user module named like a built-in is refused, not run as the built-in', async () => {
    writeFileSync(join(dir, 'wordcount.ts'), module('mine'));
    await expect(loadJob(join(dir, 'wordcount.ts'))).rejects.toThrow(
      `Job module ${join(dir, 'wordcount.ts')} has the name of the built-in job wordcount; rename the file (its task functions would be gmr.map.wordcount, the built-in's)`,
    );
  }, 240_000);
});
