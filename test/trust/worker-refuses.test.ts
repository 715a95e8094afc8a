/**
 * What the probes sent to a task worker, sent again: file-read payloads through the
 * `gearman` CLI and gmr's Client, a reduce naming /etc/passwd, /dev/zero and /proc, a FIFO, a
 * symlink out of the input root, a line without end, gzip bombs, a pathological regex. Each fails
 * its one task with a clear message that reveals no file content, and the worker keeps serving.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.ts';
import { JobExceptionError } from '../../src/errors.ts';
import { ResultMac } from '../../src/mapreduce/shuffle/task-auth.ts';
import { encodeTask, mapFunctionName, reduceFunctionName, WIRE_VERSION, type MapTaskHeader } from '../../src/mapreduce/shuffle/task-protocol.ts';
import { startTaskWorker, type TaskWorker } from '../../src/mapreduce/task/task-worker.ts';
import { JobServer } from '../../src/server/job-server.ts';

const SECRET = Buffer.from('worker-refuses-test-secret-0001');
const MiB = 1024 * 1024;

let dir: string;
let server: JobServer;
let confined: TaskWorker;
let rooted: TaskWorker;
let client: Client;
let serial = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-refuse-'));
  const root = join(dir, 'in');
  mkdirSync(root);
  writeFileSync(join(root, 'a.txt'), 'hello there\nnothing\n');
  writeFileSync(join(root, 'regex.txt'), `${'a'.repeat(39)}!\n`);
  writeFileSync(join(root, 'long.txt'), 'x'.repeat(3 * MiB));
  symlinkSync('/etc/passwd', join(root, 'link.txt'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  server = await JobServer.listen({ port: 0 });
  const limits = { maxLineBytes: MiB, maxInflatedBytes: 8 * MiB };
  // One worker confined to the input folder, one (serving other functions) whose root is '/'.
  confined = await startTaskWorker({ servers: [server.address], jobs: ['grep', 'wordcount', 'topwords'], secret: SECRET, inputRoots: [root], limits });
  rooted = await startTaskWorker({ servers: [server.address], jobs: ['invertedindex'], secret: SECRET, inputRoots: ['/'], limits });
  client = new Client({ servers: [server.address] });
});

afterAll(async () => {
  await client?.close();
  await confined?.close();
  await rooted?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function mapHeader(job: string, path: string, extra: Partial<MapTaskHeader> = {}): MapTaskHeader {
  serial++;
  return {
    v: WIRE_VERSION,
    unique: `probe-${serial}`,
    run: 'probe',
    job,
    task: 0,
    partitions: 1,
    params: job === 'grep' ? { pattern: '', ignoreCase: 'false' } : {},
    split: { path, offset: 0, length: 1_000_000, compressed: false },
    ...extra,
  };
}

/** Submits a payload; the failure text (MAC checked when signed) or the result. */
async function submit(fn: string, unique: string, payload: Buffer, signed = true): Promise<{ ok: boolean; text: string }> {
  const mac = new ResultMac(SECRET, unique);
  const data: Buffer[] = [];
  const handle = client.submit(fn, payload, { unique });
  handle.on('data', (chunk: Buffer) => {
    mac.frame(chunk);
    data.push(chunk);
  });
  try {
    const sealed = await handle;
    const summary = mac.open('C', sealed);
    expect(summary, 'a result signed with the run secret').toBeDefined();
    return { ok: true, text: Buffer.concat(data).toString('utf8') };
  } catch (error) {
    if (!(error instanceof JobExceptionError)) throw error;
    const report = signed ? mac.open('X', error.exception) : error.exception;
    expect(report, 'a failure report signed with the run secret').toBeDefined();
    return { ok: false, text: (report as Buffer).toString('utf8') };
  }
}

async function signedMap(header: MapTaskHeader, body?: Buffer): Promise<{ ok: boolean; text: string }> {
  return submit(mapFunctionName(header.job), header.unique, encodeTask(header, body, SECRET));
}

async function stillServes(): Promise<void> {
  const ok = await signedMap(mapHeader('grep', join(dir, 'in', 'a.txt'), { params: { pattern: 'hello', ignoreCase: 'false' } }));
  expect(ok.ok).toBe(true);
  expect(ok.text).toContain('hello there');
}

describe('a task worker with a run secret and an input root', () => {
  it('refuses the gearman CLI\'s unsigned /etc/shadow payload and prints nothing of the file', async () => {
    const refusals: string[] = [];
    confined.worker.on('job:fail', (_job, error) => refusals.push(error.message));
    const payload = `${JSON.stringify(mapHeader('grep', '/etc/shadow'))}\n`;
    const cli = spawn('gearman', ['-h', '127.0.0.1', '-p', String(server.port), '-f', mapFunctionName('grep')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    cli.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => cli.once('close', (code) => resolve(code)));
    cli.stdin.end(payload);
    const timer = setTimeout(() => cli.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).not.toBe(0);
    expect(output).toContain('Job failed');
    expect(output).not.toMatch(/root:/);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/^Refused an unsigned task/);
    await stillServes();
  });

  it('refuses unsigned payloads from gmr\'s Client naming /etc/shadow and /proc/self/environ, saying why', async () => {
    for (const path of ['/etc/shadow', '/proc/self/environ']) {
      const header = mapHeader('grep', path);
      const r = await submit(mapFunctionName('grep'), header.unique, encodeTask(header));
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/^Refused an unsigned task: expected a first line of 64 hex digits \(HMAC-SHA256 with the run secret\)/);
      expect(r.text).not.toMatch(/root:|PATH=|shadow|environ/);
    }
    await stillServes();
  });

  it('confines signed map tasks to the input root, after resolving symlinks, and refuses FIFOs without blocking', async () => {
    const root = join(dir, 'in');
    const cases: Array<[string, RegExp]> = [
      ['/etc/passwd', /^Refused input \/etc\/passwd: outside the input roots \(this worker reads only below its input roots: --input-root\)/],
      [join(root, 'link.txt'), /^Refused input .*link\.txt: it resolves to \/etc\/passwd, outside the input roots/],
      [join(root, '..', '..', 'etc', 'passwd'), /^Refused input .*passwd: outside the input roots/],
      [join(root, 'fifo'), /^Refused input .*fifo: expected a regular file, received a FIFO/],
      [join(root, 'missing.txt'), /^Cannot read input file .*missing\.txt: ENOENT/],
    ];
    for (const [path, message] of cases) {
      const r = await signedMap(mapHeader('grep', path));
      expect(r.ok, path).toBe(false);
      expect(r.text).toMatch(message);
      expect(r.text).not.toMatch(/root:x:/);
    }
    await stillServes();
  });

  it('refuses a signed reduce naming /etc/passwd (outside any run folder) without echoing its first line', async () => {
    serial++;
    const header = { v: WIRE_VERSION, unique: `probe-${serial}`, run: 'probe', job: 'wordcount', task: 0, partitions: 1, params: {}, runs: ['/etc/passwd'] };
    const r = await submit(reduceFunctionName('wordcount'), header.unique, encodeTask(header, undefined, SECRET));
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^Refused reduce input \/etc\/passwd: expected <run folder of probe>\/map-NNNNN\/part-NNNNN, received \/etc\/passwd; a reduce task reads only map output inside its run folder/);
    expect(r.text).not.toMatch(/root:x:/);
    await stillServes();
  });

  it('a later step reads only the previous step\'s output in its own run folder, and its reduce only its own step\'s runs', async () => {
    // A job of several steps (topwords: count, then rank): step 2's tasks are signed like step 1's,
    // and what they read is checked against the run folder named by the signed run id.
    const run = `probe${process.pid}x${Date.now().toString(36)}`;
    const runFolder = join(tmpdir(), `gmr-run-${run}`);
    mkdirSync(join(runFolder, 'reduce-00000'), { recursive: true });
    mkdirSync(join(runFolder, 'map-00000'), { recursive: true });
    try {
      const pairs = join(runFolder, 'reduce-00000', 'output');
      writeFileSync(pairs, '"hello"\t3\n"there"\t1\n');
      writeFileSync(join(runFolder, 'map-00000', 'part-00000'), '"hello"\t3\n');
      const step2 = (path: string): MapTaskHeader => mapHeader('topwords', path, { run, step: 1, params: { n: 10 }, split: { path, offset: 0, length: 1000, compressed: false } });
      const ok = await signedMap(step2(pairs));
      expect(ok.ok, ok.text).toBe(true);
      expect(ok.text).toContain('[3,"hello"]');
      const cases: Array<[string, RegExp]> = [
        // An input file below the worker's root is not a step 2 input ...
        [join(dir, 'in', 'a.txt'), /^Refused step 2 input .*a\.txt: expected <run folder of probe\w+>\/\{map,reduce\}-NNNNN\/output, received .*a\.txt; a later step's map task reads only the previous step's output inside its run folder/],
        // ... nor another run's output, nor a file of the run folder other than a task's output.
        [join(tmpdir(), 'gmr-run-someoneelse', 'reduce-00000', 'output'), /^Cannot read step 2 input .*someoneelse.*ENOENT|^Refused step 2 input/],
        [join(runFolder, 'map-00000', 'part-00000'), /^Refused step 2 input .*part-00000: expected <run folder of probe\w+>\/\{map,reduce\}-NNNNN\/output/],
        ['/etc/passwd', /^Refused step 2 input \/etc\/passwd: expected <run folder/],
      ];
      for (const [path, message] of cases) {
        const r = await signedMap(step2(path));
        expect(r.ok, path).toBe(false);
        expect(r.text).toMatch(message);
        expect(r.text).not.toMatch(/root:x:|hello/);
      }
      // Step 2's reduce reads step 2's map output (step2-map-NNNNN), not step 1's.
      serial++;
      const reduce = { v: WIRE_VERSION, unique: `probe-${serial}`, run, job: 'topwords', task: 0, partitions: 1, params: { n: 10 }, step: 1, runs: [join(runFolder, 'map-00000', 'part-00000')] };
      const r = await submit(reduceFunctionName('topwords'), reduce.unique, encodeTask(reduce, undefined, SECRET));
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/^Refused reduce input .*map-00000\/part-00000: expected <run folder of probe\w+>\/step2-map-NNNNN\/part-NNNNN, received /);
      // Unsigned, a later step's task is refused like any other.
      const unsigned = step2(pairs);
      const u = await submit(mapFunctionName('topwords'), unsigned.unique, encodeTask(unsigned));
      expect(u.ok).toBe(false);
      expect(u.text).toMatch(/^Refused an unsigned task/);
    } finally {
      rmSync(runFolder, { recursive: true, force: true });
    }
    await stillServes();
  });

  it('closes the runs it opened when one run of a reduce is refused (no descriptor left behind)', async () => {
    // The worker runs in this process: its open files are this process's /proc/self/fd.
    const run = `fds${process.pid}x${Date.now().toString(36)}`;
    const runFolder = join(tmpdir(), `gmr-run-${run}`);
    const part = join(runFolder, 'map-00000', 'part-00000');
    mkdirSync(join(runFolder, 'map-00000'), { recursive: true });
    writeFileSync(part, '"hello"\t3\n');
    const openOnPart = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === part;
        } catch {
          return false;
        }
      }).length;
    try {
      serial++;
      const header = { v: WIRE_VERSION, unique: `probe-${serial}`, run, job: 'wordcount', task: 0, partitions: 1, params: {}, runs: [part, part, part, '/etc/passwd'] };
      const r = await submit(reduceFunctionName('wordcount'), header.unique, encodeTask(header, undefined, SECRET));
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/^Refused reduce input \/etc\/passwd: expected <run folder of fds\w+>\/map-NNNNN\/part-NNNNN/);
      expect(openOnPart()).toBe(0);
    } finally {
      rmSync(runFolder, { recursive: true, force: true });
    }
    await stillServes();
  });

  it('refuses /dev/zero and /proc/self/environ even below a root of /', async () => {
    for (const [path, kind] of [['/dev/zero', 'dev'], ['/proc/self/environ', 'proc']] as const) {
      const r = await signedMap(mapHeader('invertedindex', path));
      expect(r.ok, path).toBe(false);
      expect(r.text).toMatch(new RegExp(`Refused input ${path}: expected a regular file on disk, received a file of ${kind} \\(virtual filesystem\\)`));
    }
    await stillServes();
  });

  it('fails a line longer than the limit with "line longer than N bytes at path@offset"', async () => {
    const path = join(dir, 'in', 'long.txt');
    const r = await signedMap(mapHeader('grep', path));
    expect(r.ok).toBe(false);
    expect(r.text).toContain(`line longer than ${MiB} bytes at ${path}@0 (raise the limit with gmr worker --max-line-length)`);
    await stillServes();
  });

  it('fails shipped gzip bombs (one long line, many short ones) at the limits instead of inflating them', async () => {
    const bomb = (byte: string, size: number): Buffer =>
      execFileSync('python3', ['-c', `import gzip, sys; sys.stdout.buffer.write(gzip.compress(b"${byte}" * ${size}, 9))`]);
    const zeros = bomb('\\0', 16 * MiB);
    const newlines = bomb('\\n', 16 * MiB);
    expect(zeros.length).toBeLessThan(MiB);
    const shipped = (body: Buffer, name: string): Promise<{ ok: boolean; text: string }> =>
      signedMap(mapHeader('wordcount', `/nowhere/${name}.gz`, { split: { path: `/nowhere/${name}.gz`, offset: 0, length: body.length, compressed: true }, shipped: { start: 0 } }), body);
    const long = await shipped(zeros, 'zeros');
    expect(long.ok).toBe(false);
    expect(long.text).toMatch(/line longer than 1048576 bytes at \/nowhere\/zeros\.gz@0/);
    const many = await shipped(newlines, 'newlines');
    expect(many.ok).toBe(false);
    expect(many.text).toContain('/nowhere/newlines.gz inflates to more than 8388608 bytes (raise the limit with gmr worker --max-inflated-size)');
    await stillServes();
  });

  it('matches a pathological grep pattern in linear time, and refuses one that cannot be', async () => {
    const path = join(dir, 'in', 'regex.txt');
    // ^(\w+\s?)*$ against 39 letters and "!" backtracks 2^39 times in a backtracking engine.
    const slow = await signedMap(mapHeader('grep', path, { params: { pattern: '^(\\w+\\s?)*$', ignoreCase: 'false' } }));
    expect(slow.ok).toBe(true);
    expect(slow.text).not.toContain('aaaa');
    const matching = await signedMap(mapHeader('grep', path, { params: { pattern: '^(\\w+\\s?)*!$', ignoreCase: 'true' } }));
    expect(matching.ok).toBe(true);
    expect(matching.text).toContain(`${'a'.repeat(39)}!`);
    const backref = await signedMap(mapHeader('grep', path, { params: { pattern: '(a)\\1', ignoreCase: 'false' } }));
    expect(backref.ok).toBe(false);
    expect(backref.text).toContain('pattern "(a)\\\\1" cannot be matched in linear time (backreferences and lookaround are not supported), so it could hold a worker forever');
    await stillServes();
  });
});
