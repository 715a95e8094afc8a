/**
 * Captures what job code writes to process.stdout and process.stderr (console.* included) into
 * the TaskLog of the attempt it runs for. Attempts are told apart by AsyncLocalStorage, so a
 * worker with --concurrency N keeps each task's lines in its own log; writes outside any open
 * attempt (the worker's own lines, module top level) go to the real streams as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogStream } from '../shuffle/task-protocol.ts';
import type { TaskLog } from './task-log.ts';

const current = new AsyncLocalStorage<TaskLog>();
let installed = false;

function capture(stream: NodeJS.WriteStream, name: LogStream): void {
  const original = stream.write.bind(stream);
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean => {
    const log = current.getStore();
    const done = typeof encoding === 'function' ? encoding : callback;
    if (log === undefined || !log.open) {
      return typeof encoding === 'function' || encoding === undefined ? original(chunk, done) : original(chunk, encoding, done);
    }
    log.write(name, typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk));
    if (done) process.nextTick(done);
    return true;
  };
  stream.write = write as typeof stream.write;
}

/** Runs one attempt with its output captured into `log`; the log is closed when it ends. */
export async function withCapturedOutput<T>(log: TaskLog, run: () => Promise<T>): Promise<T> {
  if (!installed) {
    installed = true;
    capture(process.stdout, 'out');
    capture(process.stderr, 'err');
  }
  try {
    return await current.run(log, run);
  } finally {
    log.close();
  }
}
