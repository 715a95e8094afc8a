/**
 * The public surface of gmr, exported by name so it can be read in one screen.
 */
export {
  AbortError,
  ClosedError,
  ConnectionError,
  GearmanError,
  InputError,
  JobDefinitionError,
  JobExceptionError,
  JobFailedError,
  OutcomeUnknownError,
  ProtocolError,
  RunError,
  ServerError,
  TaskError,
  TimeoutError,
  UsageError,
} from './errors.ts';
export type { ErrorCode } from './errors.ts';
export {
  CONSTANT_PACKETS,
  DEFAULT_PORT,
  PacketParser,
  encodePacket,
  encodePacketChunks,
  packetInfo,
} from './protocol/index.ts';
export type { Magic, Packet, PacketOf, PacketType } from './protocol/index.ts';
export { JobServer } from './server/job-server.ts';
export type { JobServerOptions } from './server/job-server.ts';
export { runJob } from './mapreduce/driver/run-job.ts';
export type { PhaseProgress, RunOptions, RunProgress, RunSummary } from './mapreduce/driver/run-job.ts';
export { startTaskWorker } from './mapreduce/task/task-worker.ts';
export type { TaskWorker, TaskWorkerOptions } from './mapreduce/task/task-worker.ts';
export { loadJob, listBuiltinJobs } from './mapreduce/job/load-job.ts';
export { defineJob } from './mapreduce/job/define-job.ts';
export type {
  InputFormat,
  JobDefinition,
  MapContext,
  ParamSpec,
  Params,
  RecordLocation,
  ReduceContext,
  SplitInfo,
  TaskContext,
  TaskInfo,
} from './mapreduce/job/define-job.ts';
export { Client } from './client/client.ts';
export type {
  BackgroundSubmitOptions,
  ClientOptions,
  JobStatus,
  Priority,
  SubmitOptions,
  UniqueStatus,
} from './client/client.ts';
export { JobHandle } from './client/job-handle.ts';
export type { JobEvent } from './client/job-handle.ts';
export { AdminClient } from './client/admin-client.ts';
export type { AdminClientOptions } from './client/admin-client.ts';
export {
  parseErrLine,
  parseOkLine,
  parsePriorityStatusLines,
  parseShowJobsLines,
  parseShowUniqueJobsLines,
  parseStatusLines,
  parseWorkersLines,
} from './protocol/admin-text.ts';
export type { FunctionStatus, JobInfo, PriorityStatus, WorkerInfo } from './protocol/admin-text.ts';
export { crc32, ServerRing } from './client/server-ring.ts';
export { Worker } from './worker/worker.ts';
export type { JobHandler, WorkerEvents } from './worker/worker.ts';
export type { RegisterOptions, WorkerOptions } from './worker/worker-options.ts';
export type { WorkerJob } from './worker/worker-job.ts';
export type { JobServerEvents } from './server/job-server.ts';
