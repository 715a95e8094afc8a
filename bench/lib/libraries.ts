/**
 * The three Gearman libraries under test, behind one small interface each for the client and
 * the worker side, so the throughput driver treats them alike:
 *   gmr      our Client and Worker
 *   abraxas  abraxas 2.x (Client.connect with registerWorker / submitJob)
 *   gearman  mreinstein/node-gearman 2.x, a raw packet API: we match JOB_CREATED to submits in
 *            FIFO order and WORK_COMPLETE to callbacks by handle, and pipeline GRAB_JOBs.
 * Every client uses one connection; every worker uses one connection and may hold up to
 * `concurrency` jobs at once. The worker echoes the payload.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { Client } from '../../src/client/client.ts';
import { Worker } from '../../src/worker/worker.ts';

/**
 * `gearman-nodelay` is the gearman package with TCP_NODELAY forced on its socket by this bench
 * (the package never sets it, so Nagle's algorithm holds its small writes back): a diagnostic row
 * that shows what the package could do, not how it ships.
 */
export const LIBRARIES = ['gmr', 'abraxas', 'gearman', 'gearman-nodelay'] as const;
export type Library = (typeof LIBRARIES)[number];

export function toLibrary(name: string | undefined): Library {
  const found = LIBRARIES.find((l) => l === name);
  if (!found) throw new Error(`Unknown library "${String(name)}"; available: ${LIBRARIES.join(', ')}`);
  return found;
}

export type Done = (error: Error | null, result?: Buffer) => void;

export interface BenchClient {
  submit(payload: Buffer, done: Done): void;
  close(): Promise<void>;
}

export interface BenchWorker {
  close(): Promise<void>;
}

function split(address: string): { host: string; port: number } {
  const [host = '127.0.0.1', port = '4730'] = address.split(':');
  return { host, port: Number(port) };
}

// ---- gmr -------------------------------------------------------------------------------------

async function gmrClient(address: string, fn: string, inflight: number): Promise<BenchClient> {
  const client = new Client({ servers: [address], maxInFlight: inflight });
  await client.echo('ping'); // connected
  return {
    submit(payload, done) {
      client.submit(fn, payload).then<void, void>(
        (result) => done(null, result),
        (error: unknown) => done(error as Error),
      );
    },
    close: () => client.close(),
  };
}

async function gmrWorker(address: string, fn: string, concurrency: number): Promise<BenchWorker> {
  const worker = new Worker({ servers: [address], concurrency });
  worker.on('error', (error) => process.stderr.write(`gmr worker error: ${error.message}\n`));
  worker.register(fn, (job) => job.payload);
  await worker.start();
  return { close: () => worker.close({ timeoutMs: 1000 }) };
}

// ---- abraxas ---------------------------------------------------------------------------------

interface AbraxasTask {
  payload: Buffer;
}
interface AbraxasClient {
  on(event: 'connect' | 'connection-error', listener: (...args: unknown[]) => void): void;
  registerWorker(fn: string, handler: (task: AbraxasTask) => Buffer): void;
  submitJob(fn: string, data: Buffer, callback: (error: Error | null, result: Buffer) => void): unknown;
  disconnect(): void;
}
interface AbraxasModule {
  Client: { connect(options: { servers: string[]; maxJobs?: number }, onConnect?: () => void): AbraxasClient };
}

const require = createRequire(import.meta.url);

async function abraxasConnect(address: string, maxJobs?: number): Promise<AbraxasClient> {
  const { Client: AbraxasClientCtor } = require('abraxas') as AbraxasModule;
  let client: AbraxasClient | undefined;
  await new Promise<void>((resolve) => {
    client = AbraxasClientCtor.connect({ servers: [address], ...(maxJobs ? { maxJobs } : {}) }, () => resolve());
  });
  if (!client) throw new Error('abraxas: no client');
  return client;
}

async function abraxasClient(address: string, fn: string): Promise<BenchClient> {
  const client = await abraxasConnect(address);
  return {
    submit(payload, done) {
      client.submitJob(fn, payload, (error, result) => done(error, result));
    },
    async close() {
      client.disconnect();
    },
  };
}

async function abraxasWorker(address: string, fn: string, concurrency: number): Promise<BenchWorker> {
  const client = await abraxasConnect(address, concurrency);
  client.registerWorker(fn, (task) => task.payload);
  return {
    async close() {
      client.disconnect();
    },
  };
}

// ---- gearman (mreinstein/node-gearman) -------------------------------------------------------

interface GearmanConnection {
  connect(callback: () => void): void;
  close(): void;
  on(event: 'JOB_CREATED', listener: (handle: string) => void): void;
  on(event: 'WORK_COMPLETE', listener: (job: { handle: string; payload: Buffer }) => void): void;
  on(event: 'WORK_FAIL', listener: (job: { handle: string }) => void): void;
  on(event: 'ERROR', listener: (code: string, text: string) => void): void;
  on(event: 'JOB_ASSIGN', listener: (job: { handle: string; func_name: string; payload: Buffer }) => void): void;
  on(event: 'NOOP' | 'NO_JOB', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  submitJob(fn: string, data: Buffer): void;
  addFunction(fn: string): void;
  preSleep(): void;
  grabJob(): void;
  sendWorkComplete(handle: string, data: Buffer): void;
}
type GearmanFactory = (host: string, port: number, options?: object) => GearmanConnection;

/** Makes every socket this process connects from now on set TCP_NODELAY. */
function forceNoDelay(): void {
  const proto = net.Socket.prototype as unknown as { connect: (this: net.Socket, ...a: unknown[]) => net.Socket };
  const original = proto.connect;
  proto.connect = function connect(this: net.Socket, ...a: unknown[]): net.Socket {
    this.setNoDelay(true);
    return original.apply(this, a);
  };
}

async function gearmanConnect(address: string, noDelay: boolean): Promise<GearmanConnection> {
  const { host, port } = split(address);
  if (noDelay) forceNoDelay();
  const conn = (require('gearman') as GearmanFactory)(host, port);
  conn.on('error', (error) => process.stderr.write(`gearman socket error: ${error.message}\n`));
  await new Promise<void>((resolve) => conn.connect(resolve));
  return conn;
}

async function gearmanClient(address: string, fn: string, noDelay: boolean): Promise<BenchClient> {
  const conn = await gearmanConnect(address, noDelay);
  // JOB_CREATED answers SUBMIT_JOBs in the order they were written on this connection.
  const created: Done[] = []; // at most `inflight` long, so shift() stays cheap
  const byHandle = new Map<string, Done>();
  const take = (handle: string): Done => {
    const done = byHandle.get(handle);
    if (!done) throw new Error(`gearman: result for unknown handle ${handle}`);
    byHandle.delete(handle);
    return done;
  };
  conn.on('JOB_CREATED', (handle) => {
    const done = created.shift();
    if (!done) throw new Error(`gearman: JOB_CREATED ${handle} without a pending submit`);
    byHandle.set(handle, done);
  });
  conn.on('WORK_COMPLETE', ({ handle, payload }) => take(handle)(null, payload));
  conn.on('WORK_FAIL', ({ handle }) => take(handle)(new Error(`gearman: WORK_FAIL for ${handle}`)));
  conn.on('ERROR', (code, text) => {
    throw new Error(`gearman: server ERROR ${code} ${text}`);
  });
  return {
    submit(payload, done) {
      created.push(done);
      conn.submitJob(fn, payload);
    },
    async close() {
      conn.close();
    },
  };
}

async function gearmanWorker(address: string, fn: string, concurrency: number, noDelay: boolean): Promise<BenchWorker> {
  const conn = await gearmanConnect(address, noDelay);
  // Up to `concurrency` GRAB_JOBs outstanding on the one connection (gearmand allows a
  // connection to hold several jobs); PRE_SLEEP only once every grab came back NO_JOB.
  let grabs = 0;
  const fill = (): void => {
    while (grabs < concurrency) {
      grabs++;
      conn.grabJob();
    }
  };
  conn.on('NOOP', fill);
  conn.on('NO_JOB', () => {
    grabs--;
    if (grabs === 0) conn.preSleep();
  });
  conn.on('JOB_ASSIGN', (job) => {
    conn.sendWorkComplete(job.handle, job.payload);
    conn.grabJob(); // grabs stays the same: one answered, one sent
  });
  conn.addFunction(fn);
  conn.preSleep();
  return {
    async close() {
      conn.close();
    },
  };
}

export function connectClient(lib: Library, address: string, fn: string, inflight: number): Promise<BenchClient> {
  switch (lib) {
    case 'gmr':
      return gmrClient(address, fn, inflight);
    case 'abraxas':
      return abraxasClient(address, fn);
    case 'gearman':
    case 'gearman-nodelay':
      return gearmanClient(address, fn, lib === 'gearman-nodelay');
    default:
      return lib satisfies never;
  }
}

export function startWorker(lib: Library, address: string, fn: string, concurrency: number): Promise<BenchWorker> {
  switch (lib) {
    case 'gmr':
      return gmrWorker(address, fn, concurrency);
    case 'abraxas':
      return abraxasWorker(address, fn, concurrency);
    case 'gearman':
    case 'gearman-nodelay':
      return gearmanWorker(address, fn, concurrency, lib === 'gearman-nodelay');
    default:
      return lib satisfies never;
  }
}
