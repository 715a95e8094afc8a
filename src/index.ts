/**
 * The public surface of gmr, exported by name so it can be read in one screen: the Gearman roles,
 * the map/reduce job API, the errors, and the types they take and return. The wire codec and the
 * admin text format are in the `gmr/protocol` entry (src/protocol/index.ts).
 */
// Kept in the emitted index.d.ts: the types below use Node's (Buffer, EventEmitter, sockets).
/// <reference types="node" preserve="true" />
export {
  AbortError,
  ClosedError,
  ConnectionError,
  DeadlineError,
  GearmanError,
  InputError,
  InterruptedError,
  JobDefinitionError,
  JobExceptionError,
  JobFailedError,
  LockHeldError,
  OutcomeUnknownError,
  OutputError,
  ProtocolError,
  RunError,
  ServerError,
  TaskError,
  TimeoutError,
  UnavailableError,
  UsageError,
} from './errors.ts';
export type { ErrorCode } from './errors.ts';
export { DEFAULT_PORT } from './protocol/limits.ts';
export { JobServer } from './server/job-server.ts';
export type { JobServerOptions, JobServerQueueOptions, JobServerTlsOptions } from './server/job-server.ts';
export type { PemSource, TlsOptions } from './connection/tls-options.ts';
export { runJob } from './mapreduce/driver/run-job-lazy.ts';
export type { RunOptions, RunProgress, RunSummary } from './mapreduce/driver/run-job.ts';
export type { BadRecord } from './mapreduce/driver/bad-records.ts';
export { listRuns, readStatusFile } from './mapreduce/status/run-status.ts';
export type { PhaseCounts, PhaseProgress, RunState, RunStatus, RunningTask, StatusMessage, StepStatus } from './mapreduce/status/run-status.ts';
export { watchRun } from './mapreduce/status/live-status.ts';
export type { LiveTask, RunOutcome, WatchedRun } from './mapreduce/status/live-status.ts';
export { serverTasks } from './mapreduce/status/server-tasks.ts';
export type { ServerTasks } from './mapreduce/status/server-tasks.ts';
export { startTaskWorker } from './mapreduce/task/task-worker.ts';
export type { TaskWorker, TaskWorkerOptions } from './mapreduce/task/task-worker.ts';
export { loadJob, listBuiltinJobs } from './mapreduce/job/load-job.ts';
export type { LoadedJob } from './mapreduce/job/load-job.ts';
export { defineJob, step } from './mapreduce/job/define-job.ts';
export { compareValues as compareNatural } from './mapreduce/shuffle/key-order.ts';
export type {
  Emit,
  InputFormat,
  JobDefinition,
  JobOptions,
  LooseStep,
  MapContext,
  PartialSink,
  ParamSpec,
  Params,
  RecordLocation,
  PipelineDefinition,
  ReduceContext,
  ReduceResult,
  SplitInfo,
  StepDefinition,
  TaskContext,
  TaskInfo,
  TypedStep,
} from './mapreduce/job/define-job.ts';
export { Client } from './client/client.ts';
export type {
  BackgroundSubmitOptions,
  ClientEvents,
  ClientOptions,
  JobStatus,
  Priority,
  SubmitOptions,
  UniqueStatus,
} from './client/client-options.ts';
export { JobHandle } from './client/job-handle.ts';
export type { JobEvent } from './client/job-handle.ts';
export { AdminClient } from './client/admin-client.ts';
export type { AdminClientOptions } from './client/admin-client.ts';
export type { FunctionStatus, JobInfo, PriorityStatus, WorkerInfo } from './protocol/admin-text.ts';
export { Worker } from './worker/worker.ts';
export type { JobHandler, WorkerEvents } from './worker/worker.ts';
export type { RegisterOptions, WorkerOptions } from './worker/worker-options.ts';
export type { WorkerJob } from './worker/worker-job.ts';
export type { JobServerEvents } from './server/job-server.ts';
