export const x = 1;
export { defineJob } from './mapreduce/define-job.ts';
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
} from './mapreduce/define-job.ts';
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
} from './client/admin-parsers.ts';
export type { FunctionStatus, JobInfo, PriorityStatus, WorkerInfo } from './client/admin-parsers.ts';
export { crc32, ServerRing } from './client/server-ring.ts';
export { Worker } from './worker/worker.ts';
export type { JobHandler, WorkerEvents } from './worker/worker.ts';
export type { RegisterOptions, WorkerOptions } from './worker/worker-options.ts';
export type { WorkerJob } from './worker/worker-job.ts';
