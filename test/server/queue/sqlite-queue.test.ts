/**
 * JobServer's libsqlite3 queue in process: background jobs stored in gearmand's table (python3
 * reads it back), removed when they end, replayed from a file gearmand's way (written by python3)
 * in priority order, and files it cannot use refused at listen() with one line naming them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminClient, Client, JobServer, Worker } from 'gmr';
import { InputError, LockHeldError } from '../../../src/errors.ts';
import { Cleanup, uniqueName } from '../../helpers/cleanup.ts';
import { PacketSocket } from '../../helpers/packet-socket.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { GEARMAND_CREATE_TABLE, readQueueFile, writeQueueFile } from './queue-file.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const root = mkdtempSync(join(tmpdir(), 'gmr-queue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cleanup = new Cleanup();
afterEach(() => cleanup.run());
let files = 0;
const queueFile = (): string => join(root, `q${++files}.db`);

async function queued(file: string): Promise<JobServer> {
  return cleanup.add(await JobServer.listen({ port: 0, queue: { type: 'libsqlite3', file } }));
}

async function raw(server: JobServer): Promise<PacketSocket> {
  const socket = await PacketSocket.connect(server.port);
  cleanup.defer(() => socket.close());
  return socket;
}

/** What listen() throws for this file, as its class and one message line. */
async function refusal(file: string): Promise<{ error: Error; lines: number }> {
  const error = await JobServer.listen({ port: 0, queue: { type: 'libsqlite3', file } }).then(
    async (server) => {
      await server.close();
      return new Error('listen() resolved');
    },
    (e: Error) => e,
  );
  return { error, lines: error.message.split('\n').length };
}

describe('JobServer with a libsqlite3 queue', () => {
  it("stores background jobs in gearmand's table with priority, unique and epoch (a job without a unique gets a UUID); foreground jobs are not stored", async () => {
    const file = queueFile();
    const server = await queued(file);
    const client = cleanup.add(new Client({ servers: [server.address] }));
    const later = Math.floor(Date.now() / 1000) + 3600;
    await client.submitBackground('q.a', 'high one', { unique: 'u-high', priority: 'high' });
    const perl = await raw(server); // as Perl's Gearman::Client sends it: an empty unique
    perl.send({ type: 'SUBMIT_JOB_BG', fn: 'q.a', unique: '', data: Buffer.from('no unique') });
    await perl.expect('JOB_CREATED');
    await client.submitBackground('q.b', 'low one', { unique: 'u-low', priority: 'low' });
    await client.submitBackground('q.b', 'later', { unique: 'u-later', epoch: later });
    const foreground = client.submit('q.c', 'foreground', { unique: 'u-fg' }).then(() => undefined, (e: unknown) => e);
    const admin = cleanup.add(new AdminClient({ server: server.address }));
    await waitFor(async () => (await admin.status()).some((s) => s.function === 'q.c' && s.total === 1), 'the foreground job queued');
    await server.close();
    expect(await foreground).toBeInstanceOf(Error);

    const { sql, rows } = readQueueFile(file);
    expect(sql).toBe(GEARMAND_CREATE_TABLE);
    expect(rows).toEqual([
      { unique: 'u-high', fn: 'q.a', priority: 0, data: 'high one', when: 0 },
      { unique: expect.stringMatching(UUID), fn: 'q.a', priority: 1, data: 'no unique', when: 0 },
      { unique: 'u-low', fn: 'q.b', priority: 2, data: 'low one', when: 0 },
      { unique: 'u-later', fn: 'q.b', priority: 1, data: 'later', when: later },
    ]);
  });

  it('removes a job when it completes, fails, throws or is cancelled; keeps one still queued', async () => {
    const file = queueFile();
    const server = await queued(file);
    const client = cleanup.add(new Client({ servers: [server.address] }));
    const fn = uniqueName('q.end');
    const handles: string[] = [];
    for (const name of ['complete', 'fail', 'exception', 'cancelled', 'kept']) handles.push(await client.submitBackground(fn, name, { unique: name }));
    const admin = cleanup.add(new AdminClient({ server: server.address }));
    expect(await admin.cancelJob(handles[3] as string)).toBe(true);
    const worker = await raw(server);
    worker.send({ type: 'CAN_DO', fn });
    for (const end of ['complete', 'fail', 'exception'] as const) {
      worker.send({ type: 'GRAB_JOB_UNIQ' });
      const job = await worker.expect('JOB_ASSIGN_UNIQ');
      expect(job.unique).toBe(end);
      if (end === 'complete') worker.send({ type: 'WORK_COMPLETE', handle: job.handle, data: Buffer.from('done') });
      else if (end === 'fail') worker.send({ type: 'WORK_FAIL', handle: job.handle });
      else worker.send({ type: 'WORK_EXCEPTION', handle: job.handle, data: Buffer.from('boom') });
    }
    await worker.drain();
    await server.close();
    expect(readQueueFile(file).rows.map((r) => r.unique)).toEqual(['kept']);
  });

  it('replays a file written the way gearmand writes it: HIGH, NORMAL, LOW, each in stored order, uniques kept, a future epoch job held back', async () => {
    const file = queueFile();
    const fn = uniqueName('q.replay');
    const later = Math.floor(Date.now() / 1000) + 3600;
    writeQueueFile(file, [
      { unique: 'n1', fn, priority: 1, data: 'normal 1', when: 0 },
      { unique: 'l1', fn, priority: 2, data: 'low 1', when: 0 },
      { unique: 'h1', fn, priority: 0, data: 'high 1', when: 0 },
      { unique: 'later', fn, priority: 1, data: 'in an hour', when: later },
      { unique: 'n2', fn, priority: 1, data: 'normal 2', when: null },
      { unique: 'h2', fn, priority: 0, data: 'high 2', when: 0 },
      { unique: 'past', fn, priority: 1, data: 'epoch passed', when: 1_000_000_000 },
    ]);
    const server = await queued(file);
    const ran: string[] = [];
    const worker = cleanup.add(new Worker({ servers: [server.address], concurrency: 1 }));
    worker.register(fn, (job) => {
      ran.push(`${job.unique}=${job.payload.toString()}`);
      return 'ok';
    });
    await worker.start();
    await waitFor(() => ran.length === 6, 'six replayed jobs');
    expect(ran).toEqual(['h1=high 1', 'h2=high 2', 'n1=normal 1', 'n2=normal 2', 'past=epoch passed', 'l1=low 1']);
    await worker.close();
    await server.close();
    expect(readQueueFile(file).rows.map((r) => r.unique)).toEqual(['later']);
  });

  it('refuses, with one line naming the file, a file that is not SQLite, a directory, a table without gearmand columns, a row no submit could make, and a file another server holds', async () => {
    const garbage = queueFile();
    writeFileSync(garbage, 'this is not an SQLite database, just text that someone left here\n'.repeat(100));
    const dir = join(root, 'a-directory.db');
    mkdirSync(dir);
    const wrongTable = queueFile();
    writeQueueFile(wrongTable, [], 'CREATE TABLE gearman_queue (unique_key TEXT, payload BLOB)');
    const badPriority = queueFile();
    writeQueueFile(badPriority, [{ unique: 'u', fn: 'f', priority: 7, data: 'x', when: 0 }]);
    const textUnique = queueFile();
    writeQueueFile(textUnique, [{ unique: 'ok', fn: 'f', priority: 1, data: 'x', when: 0 }, { unique: 'v', fn: 'f', priority: 1, data: 42, when: 0 }]);
    const forged = queueFile();
    writeQueueFile(forged, [{ unique: 'u', fn: 'evil\n fn 9 9 9', priority: 1, data: 'x', when: 0 }]);
    const cases: Array<[string, RegExp]> = [
      [garbage, /^Queue file .*q\d+\.db cannot be used as an SQLite queue: file is not a database$/],
      [dir, /^Queue file .*a-directory\.db is a directory: expected an SQLite file/],
      [wrongTable, /^Queue file .*: table gearman_queue lacks column\(s\) function_name, priority, data: expected gearmand's/],
      [badPriority, /^Queue file .*: table gearman_queue row 1: priority must be 0 \(high\), 1 \(normal\) or 2 \(low\), received 7$/],
      [textUnique, /^Queue file .*: table gearman_queue row 2: data must be a BLOB, received 42$/],
      [forged, /^Queue holds a job of function "evil\\n fn 9 9 9" with unique "u" that no submit could make: Function name .*control/],
    ];
    for (const [file, message] of cases) {
      const { error, lines } = await refusal(file);
      expect([file, error.message]).toEqual([file, expect.stringMatching(message)]);
      expect(error).toBeInstanceOf(InputError);
      expect(lines).toBe(1);
    }
    // The file is left as it was: nothing is lost by a refused start, with --store-queue-on-shutdown
    // (which empties the table once it replayed it) too.
    expect(readQueueFile(badPriority).rows).toEqual([{ unique: 'u', fn: 'f', priority: 7, data: 'x', when: 0 }]);
    const storeOnShutdown = await JobServer.listen({ port: 0, queue: { type: 'libsqlite3', file: forged, storeOnShutdown: true } }).catch((e: unknown) => e);
    expect(storeOnShutdown).toBeInstanceOf(InputError);
    expect(readQueueFile(forged).rows.map((r) => r.fn)).toEqual(['evil\n fn 9 9 9']);

    const held = queueFile();
    await queued(held);
    const { error } = await refusal(held);
    expect(error).toBeInstanceOf(LockHeldError);
    expect(error.message).toMatch(new RegExp(`^Queue file ${held} is in use by process ${process.pid} `));
  });
});
