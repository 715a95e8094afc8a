/**
 * Workers decode task headers field by field: a header from a peer in another language with one
 * wrong field fails the task at once with a message naming that field, instead of a TypeError
 * deep inside the task (the worker used to check only `v`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, JobServer, startTaskWorker, type TaskWorker } from 'gmr';
import { decodeMapHeader, decodeReduceHeader } from '../../../src/mapreduce/shuffle/task-headers.ts';

const MAP = { v: 4, unique: 'gmr:r1:m:0', run: 'r1', job: 'wordcount', task: 0, partitions: 2, params: {}, split: { path: '/data/a.txt', offset: 0, length: 10, compressed: false } };
const REDUCE = { v: 4, unique: 'gmr:r1:r:1', run: 'r1', job: 'wordcount', task: 1, partitions: 2, params: { k: 'v' }, runs: ['/tmp/run-0'] };

describe('decodeMapHeader', () => {
  it('returns a well-formed header as it is', () => {
    expect(decodeMapHeader({ ...MAP, lineBase: 3, header: 'a,b', shipped: { start: 4 }, skip: [7] })).toEqual({ ...MAP, lineBase: 3, header: 'a,b', shipped: { start: 4 }, skip: [7] });
  });

  it.each([
    [{ split: undefined }, 'split expected an object, received nothing'],
    [{ split: { ...MAP.split, offset: '12' } }, 'split.offset expected a whole number >= 0, received "12"'],
    [{ split: { ...MAP.split, length: -1 } }, 'split.length expected a whole number >= 0, received -1'],
    [{ split: { ...MAP.split, compressed: 'no' } }, 'split.compressed expected true or false, received "no"'],
    [{ split: { ...MAP.split, path: '' } }, 'split.path expected a non-empty string, received ""'],
    [{ task: 1.5 }, 'task expected a whole number >= 0, received 1.5'],
    [{ unique: undefined }, 'unique expected a non-empty string, received nothing'],
    [{ job: 7 }, 'job expected a non-empty string, received 7'],
    [{ params: { n: { deep: 1 } } }, 'params.n expected a string, number, boolean or list of strings, received {"deep":1}'],
    [{ params: { n: [1] } }, 'params.n expected a string, number, boolean or list of strings, received [1]'],
    [{ params: [] }, 'params expected an object, received []'],
    [{ skip: [1, 'x'] }, 'skip[1] expected whole numbers >= 0, received "x"'],
    [{ shipped: { start: null } }, 'shipped.start expected a whole number >= 0, received null'],
    [{ header: 5 }, 'header expected a string (the CSV header line), received 5'],
  ])('%j fails naming the field', (change, message) => {
    expect(() => decodeMapHeader({ ...MAP, ...change })).toThrow(`Bad map task header: ${message}`);
  });
});

describe('decodeReduceHeader', () => {
  it('returns a well-formed header as it is', () => {
    expect(decodeReduceHeader(REDUCE, 0)).toEqual(REDUCE);
    expect(decodeReduceHeader({ ...REDUCE, runs: undefined, shippedRuns: [3, 4] }, 7)).toEqual({ ...REDUCE, runs: undefined, shippedRuns: [3, 4] });
  });

  it.each([
    [{ task: 2 }, 0, 'task expected a partition below partitions (2), received 2'],
    [{ runs: '/tmp/run-0' }, 0, 'runs expected a list of file paths, received "/tmp/run-0"'],
    [{ runs: ['/tmp/a', 3] }, 0, 'runs[1] expected file paths, received 3'],
    [{ runs: undefined, shippedRuns: [3, 4] }, 6, "shippedRuns expected lengths that add up to the body's 6 bytes, received [3,4]"],
    [{ shippedRuns: [0] }, 0, 'runs expected to be absent when shippedRuns is given, received ["/tmp/run-0"]'],
  ])('%j fails naming the field', (change, body, message) => {
    expect(() => decodeReduceHeader({ ...REDUCE, ...change }, body)).toThrow(`Bad reduce task header: ${message}`);
  });
});

describe('a task worker given a malformed header', () => {
  let server: JobServer | undefined;
  let worker: TaskWorker | undefined;
  let client: Client | undefined;
  afterEach(async () => {
    await client?.close();
    await worker?.close();
    await server?.close();
  });

  it('answers with a failure that names the field, and keeps serving', async () => {
    server = await JobServer.listen({ host: '127.0.0.1', port: 0 });
    // Unsigned payloads: this worker runs --insecure (a signed worker refuses them before decoding).
    worker = await startTaskWorker({ servers: [server.address], jobs: ['wordcount'], insecure: true });
    client = new Client({ servers: [server.address] });
    const payload = Buffer.from(`${JSON.stringify({ ...MAP, split: { ...MAP.split, offset: '0' } })}\n`);
    await expect(client.submit('gmr.map.wordcount', payload)).rejects.toThrow(
      'Bad map task header: split.offset expected a whole number >= 0, received "0"',
    );
    const reduce = Buffer.from(`${JSON.stringify({ ...REDUCE, task: 5 })}\n`);
    await expect(client.submit('gmr.reduce.wordcount', reduce)).rejects.toThrow('Bad reduce task header: task expected a partition below partitions (2), received 5');
  });
});
