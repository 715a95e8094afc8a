export const x = 1;
export { Worker } from './worker/worker.ts';
export type { JobHandler, WorkerEvents } from './worker/worker.ts';
export type { RegisterOptions, WorkerOptions } from './worker/worker-options.ts';
export type { WorkerJob } from './worker/worker-job.ts';
