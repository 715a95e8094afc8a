/**
 * The Worker's typed events. Every `job:start` is followed by exactly one `job:complete` or
 * `job:fail`, emitted when the handler settles.
 */
import type { WorkerJob } from './worker-job.ts';

export interface WorkerEvents {
  /** A server connection is up (again); registrations and the client id have been sent. */
  connect: [address: string];
  /** A server connection was lost; jobs it had assigned are dropped (the server requeues them). */
  disconnect: [address: string, error: Error];
  /** Only emitted when someone listens: ERROR packets, protocol violations, throwing listeners. */
  error: [Error];
  'job:start': [WorkerJob];
  'job:complete': [WorkerJob];
  /** The handler threw, or the job was dropped (connection lost, timeout, unregister, close). */
  'job:fail': [WorkerJob, Error];
  /** No job is running any more. */
  drain: [];
}
