/**
 * Streaming across machines: two `gmr worker --streaming` processes on a real gearmand and on our
 * JobServer run a python3 mapper and reducer; on gearmand also awk with `cut -f1 | uniq -c` and a
 * map-only grep, each equal to a reference (the test's own counts, python3 for grep); a run whose commands no worker was started
 * with fails fast saying how to start one; a payload naming another command is refused in one
 * line and runs nothing; a worker given --mapper without --streaming refuses to start.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.ts';
import { Client } from '../../src/client/client.ts';
import { splitCommand, streamingJobName } from '../../src/mapreduce/job/streaming-job.ts';
import { JobServer } from '../../src/server/job-server.ts';
import { generateText } from '../helpers/corpus.ts';
import { startGearmand, type GearmandHandle } from '../helpers/gearmand.ts';
import { REPO_ROOT, runGmr, spawnGmr, TEST_SECRET } from '../helpers/gmr-cli.ts';
import { ResultMac, secretFromText } from '../../src/mapreduce/shuffle/task-auth.ts';
import { JobExceptionError } from '../../src/errors.ts';
import { encodeTask, WIRE_VERSION } from '../../src/mapreduce/shuffle/task-protocol.ts';

const secret = secretFromText(TEST_SECRET, 'the test');

const EXAMPLES = join(REPO_ROOT, 'examples/streaming');
const MAPPER = `python3 ${join(EXAMPLES, 'wordcount-mapper.py')}`;
const REDUCER = `python3 ${join(EXAMPLES, 'wordcount-reducer.py')}`;
const NAME = streamingJobName({ mapper: ['python3', join(EXAMPLES, 'wordcount-mapper.py')], reducer: ['python3', join(EXAMPLES, 'wordcount-reducer.py')], separator: '\t', keyFields: 1 });

let dir: string;
let input: string;
let expected: string[];
/** `uniq -c` lines (count right-aligned in 7 columns, a space, the word) and grep -i's lines, sorted. */
let uniqCounts: string[];
let grepped: string[];
let gearmand: GearmandHandle;
let server: JobServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-streaming-servers-'));
  input = join(dir, 'in');
  mkdirSync(input);
  const counts = new Map<string, number>();
  for (let i = 0; i < 3; i++) {
    const text = `${generateText(200 + i, 300).replace(/\r/g, '')}\n`;
    writeFileSync(join(input, `f${i}.txt`), text);
    for (const word of text.split(/[ \t\n]+/)) if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  expected = [...counts].map(([w, n]) => `${w}\t${n}`).sort();
  uniqCounts = [...counts].map(([w, n]) => `${String(n).padStart(7)} ${w}`).sort();
  const script = 'import sys\nfor p in sys.argv[1:]:\n  for l in open(p, encoding="utf-8"):\n    if "gearman" in l.lower(): sys.stdout.write(l)';
  grepped = sorted(execFileSync('python3', ['-c', script, ...[0, 1, 2].map((i) => join(input, `f${i}.txt`))], { encoding: 'utf8' }));
  gearmand = await startGearmand();
  server = await JobServer.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await gearmand?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
});

async function waitForWorkers(address: string, fn: string, count: number): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  const admin = new AdminClient({ host, port: Number(port) });
  try {
    for (let i = 0; i < 600; i++) {
      const row = (await admin.status()).find((s) => s.function === fn);
      if (row && row.workers >= count) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${count} workers for ${fn} on ${address}`);
  } finally {
    await admin.close();
  }
}

function startWorkers(servers: string): void {
  for (let i = 0; i < 2; i++) children.push(spawnGmr(['worker', '--servers', servers, '--streaming', '--mapper', MAPPER, '--reducer', REDUCER, '--input-root', input, '--quiet']));
}

function sorted(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

describe('gmr worker --streaming', { timeout: 240_000 }, () => {
  it('serves a python3 mapper and reducer on gearmand and on our JobServer', async () => {
    const ours = `127.0.0.1:${server.port}`;
    startWorkers(`${gearmand.address},${ours}`);
    for (const address of [gearmand.address, ours]) {
      await waitForWorkers(address, `gmr.map.${NAME}`, 2);
      await waitForWorkers(address, `gmr.reduce.${NAME}`, 2);
    }
    for (const address of [gearmand.address, ours]) {
      const r = await runGmr(['run', '--mapper', MAPPER, '--reducer', REDUCER, '--input', input, '--servers', address, '--reducers', '2', '--split-size', '3k', '--json', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(sorted(r.stdout)).toEqual(expected);
      const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { job: string; mapTasks: number; tasks: Array<{ attempts: Array<{ worker?: string }> }> };
      expect(summary.job).toBe(NAME);
      expect(summary.mapTasks).toBeGreaterThanOrEqual(4);
      const pids = new Set(children.map((c) => String(c.pid)));
      for (const task of summary.tasks) for (const a of task.attempts) expect(pids.has(String(a.worker?.split(':').pop())), a.worker).toBe(true);
    }
  });

  it.each([
    ['an awk mapper and a `cut -f1 | uniq -c` reducer', [`awk -f ${join(EXAMPLES, 'wordcount-mapper.awk')}`, "sh -c 'cut -f1 | uniq -c'"], () => uniqCounts],
    ['grep as a map-only mapper', ['grep -i gearman'], () => grepped],
  ] as const)('runs %s on gearmand with two gmr workers', async (_name, [mapper, reducer], reference) => {
    const flags = ['--mapper', mapper, ...(reducer === undefined ? [] : ['--reducer', reducer])];
    for (let i = 0; i < 2; i++) children.push(spawnGmr(['worker', '--servers', gearmand.address, '--streaming', ...flags, '--input-root', input, '--quiet']));
    const name = streamingJobName({ mapper: splitCommand(mapper, '--mapper'), ...(reducer === undefined ? {} : { reducer: splitCommand(reducer, '--reducer') }), separator: '\t', keyFields: 1 });
    await waitForWorkers(gearmand.address, `gmr.map.${name}`, 2);
    const r = await runGmr(['run', ...flags, '--input', input, '--servers', gearmand.address, '--reducers', '2', '--split-size', '3k', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(r.stdout)).toEqual(reference());
  });

  it('fails a run fast when no worker was started with its commands, saying how to start one', async () => {
    startWorkers(gearmand.address);
    await waitForWorkers(gearmand.address, `gmr.map.${NAME}`, 2);
    const r = await runGmr(['run', '--mapper', 'cat', '--reducer', REDUCER, '--input', input, '--servers', gearmand.address, '--quiet']);
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/has no worker for gmr\.map\.stream-[0-9a-f]{12}/);
    expect(r.stderr).toContain(`gmr worker --servers ${gearmand.address} --streaming --mapper cat --reducer 'python3 ${join(EXAMPLES, 'wordcount-reducer.py')}'`);
  });

  it('refuses a payload that names another command, in one line, and runs nothing', async () => {
    startWorkers(gearmand.address);
    await waitForWorkers(gearmand.address, `gmr.map.${NAME}`, 2);
    const marker = join(dir, 'pwned');
    // Signed with the cluster's secret: the refusal does not rest on the signature (a user who may
    // run jobs, or an --insecure cluster, can send any payload).
    const header = {
      v: WIRE_VERSION,
      unique: 'stream-attack-1',
      run: 'attacker',
      job: NAME,
      task: 0,
      partitions: 2,
      params: {},
      split: { path: join(input, 'f0.txt'), offset: 0, length: 100, compressed: false },
      stream: { mapper: ['sh', '-c', `touch ${marker}`], reducer: ['python3', join(EXAMPLES, 'wordcount-reducer.py')], separator: '\t', keyFields: 1 },
    };
    const client = new Client({ servers: [gearmand.address] });
    /** The worker's failure report, its seal checked with the run secret. */
    const refusal = async (task: typeof header | Omit<typeof header, 'stream'>): Promise<string> => {
      const mac = new ResultMac(secret, task.unique);
      const handle = client.submit(`gmr.map.${NAME}`, encodeTask(task, undefined, secret), { unique: task.unique });
      handle.on('data', (chunk: Buffer) => mac.frame(chunk));
      const error = await Promise.resolve(handle).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(JobExceptionError);
      const report = mac.open('X', (error as JobExceptionError).exception);
      expect(report, 'a failure report sealed with the run secret').toBeDefined();
      return (report as Buffer).toString('utf8');
    };
    try {
      const message = await refusal(header);
      expect(message).toContain(`Refused a streaming task naming mapper "sh -c 'touch ${marker}'": this worker runs only mapper "python3 ${join(EXAMPLES, 'wordcount-mapper.py')}"`);
      expect(message).not.toContain('\n');
      // Without the field, and for another job name, it is refused too.
      const { stream: _dropped, ...bare } = header;
      expect(await refusal({ ...bare, unique: 'stream-attack-2' })).toMatch(/Refused a streaming task without a stream field/);
      expect(await refusal({ ...header, unique: 'stream-attack-3', job: 'stream-000000000000' })).toMatch(/Refused a streaming task for job stream-000000000000/);
    } finally {
      await client.close();
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('will not start with --mapper unless told --streaming', async () => {
    const r = await runGmr(['worker', '--servers', gearmand.address, '--mapper', 'cat']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim()).toBe('gmr: --mapper on a worker needs --streaming: a worker runs commands only when told so on its own command line');
  });
});
