/**
 * How a worker runs one map task of a job module: decodes and checks its payload, reads the split
 * (or the shipped bytes, or a grouped task's whole files) below the input roots, runs the job's
 * map and sends its pairs as P frames (O frames for a step without reduce).
 */
import { open } from 'node:fs/promises';
import { TaskError } from '../../errors.ts';
import type { WorkerJob } from '../../worker/worker-job.ts';
import { stepReduces } from '../job/job-steps.ts';
import { decodeMapHeader } from '../shuffle/task-headers.ts';
import { outputFrame, partialFrame, type MapTaskHeader } from '../shuffle/task-protocol.ts';
import { withAttemptOutput } from './attempt-output.ts';
import { runFileOpener } from './input-guard.ts';
import { runMapParts, type MapPart, type MapSource } from './map-task.ts';
import {
  checkLineLengths,
  readBufferBlocks,
  readBufferRecords,
  readShippedCompressed,
  readShippedCompressedBlocks,
  readSplit,
  readSplitBlocks,
} from './record-reader.ts';
import { ProgressThrottle } from './progress-throttle.ts';
import type { StatusSender } from './status-sender.ts';
import { beginAttempt, checkedTask, completeAttempt, taskSpec, withFailureReport, type JobCode, type TaskContext } from './task-attempt.ts';
import { TaskChannel } from './task-channel.ts';
import { TaskFailure } from './task-failure.ts';

function mapSource(header: MapTaskHeader, body: Buffer, context: TaskContext): MapSource {
  const source = rawMapSource(header, body, context);
  if (!header.skip || header.skip.length === 0) return source;
  // Bad records the driver decided to skip (--max-bad-records), by byte offset. (A mapBytes job
  // never reports a bad record, so it never gets a skip list: its source stays as it is.)
  const skip = new Set(header.skip);
  return {
    lines: (onRecord, onProgress) =>
      source.lines((line, pos) => {
        if (!skip.has(pos.offset)) onRecord(line, pos);
      }, onProgress),
    ...(source.blocks === undefined ? {} : { blocks: source.blocks }),
  };
}

function rawMapSource(header: MapTaskHeader, body: Buffer, context: TaskContext): MapSource {
  const split = { ...header.split, index: header.task, fileSize: header.split.offset + header.split.length };
  const { limits } = context;
  // The first step reads the input (below the input roots); a later step, the previous step's
  // output inside the run folder (the signed header names the run).
  const step = header.step ?? 0;
  const reading = { ...limits, open: step === 0 ? context.guard.openInput : runFileOpener(header.run, 'pairs', step) };
  if (!header.shipped) {
    return {
      lines: (onRecord, onProgress) => readSplit(split, onRecord, onProgress, reading),
      blocks: (onBlock, onProgress) => readSplitBlocks(split, onBlock, onProgress, reading),
    };
  }
  const start = header.shipped.start;
  const { path, compressed, length } = header.split;
  // Shipped .gz bytes inflate as a stream with the same limits as a file's: never gunzipSync.
  if (compressed && start !== 0) throw new TaskError(`Shipped .gz ${path}: expected its bytes from offset 0, received ${start}`);
  const done = (records: number, onProgress?: (n: number) => void): { records: number; bytes: number } => {
    onProgress?.(length);
    return { records, bytes: length };
  };
  return {
    lines: async (onRecord, onProgress) => {
      if (compressed) return done((await readShippedCompressed(path, body, onRecord, limits)).records, onProgress);
      checkLineLengths(body, start, limits.maxLineBytes, path);
      return done(readBufferRecords(body, start, onRecord).records, onProgress);
    },
    blocks: async (onBlock, onProgress) => {
      if (compressed) return done((await readShippedCompressedBlocks(path, body, onBlock, limits)).records, onProgress);
      checkLineLengths(body, start, limits.maxLineBytes, path);
      return done(readBufferBlocks(body, start, onBlock).records, onProgress);
    },
  };
}

/** Lines before byte `end` of a file, plus one: the 1-based line number of the record there. */
async function lineAt(path: string, end: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let line = 1;
    for (let pos = 0; pos < end; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) line++;
      pos += bytesRead;
    }
    return line;
  } finally {
    await handle.close();
  }
}

/**
 * A map failure names the record's line in its file. Without a lineBase from the driver the task
 * only knows the line within its split; on failure (rare) the file is read up to the record.
 */
async function withFileLine(error: unknown, header: MapTaskHeader): Promise<unknown> {
  if (!(error instanceof TaskFailure) || header.lineBase !== undefined || header.shipped) return error;
  if (header.split.offset === 0 || header.split.compressed) return error;
  if (error.line === undefined || error.recordOffset === undefined || error.path === undefined) return error;
  const line = await lineAt(error.path, error.recordOffset).catch(() => undefined);
  if (line === undefined) return error;
  const message = error.message.replace(`, line ${error.line} (byte`, `, line ${line} (byte`);
  return new TaskFailure(message, { job: error.job, phase: error.phase, index: error.index, path: error.path, offset: error.offset, length: error.length, line, recordOffset: error.recordOffset }, { cause: error.cause });
}

/** Runs the map task `wjob` carries; a payload that fails its checks is refused before the attempt begins. */
export async function runMap(job: JobCode, wjob: WorkerJob, context: TaskContext): Promise<Buffer> {
  const channel = new TaskChannel(wjob, context.secret);
  const { header: raw, body } = checkedTask(job.loaded, wjob, context);
  const header = decodeMapHeader(raw);
  return withAttemptOutput(wjob, channel, header.logLimit, (status) =>
    withFailureReport(
      channel,
      job,
      header.split,
      () => runMapAttempt(job, wjob, channel, header, body, context, status),
      (error) => withFileLine(error, header),
    ),
  );
}

async function runMapAttempt(
  job: JobCode,
  wjob: WorkerJob,
  channel: TaskChannel,
  header: MapTaskHeader,
  body: Buffer,
  context: TaskContext,
  status: StatusSender,
): Promise<Buffer> {
  const { definition } = job;
  await beginAttempt(channel);
  // Small files grouped into one task are its parts, each a whole file (map-task.ts runMapParts).
  const parts: MapPart[] = header.splits
    ? header.splits.map((split) => ({ split, source: mapSource({ ...header, split }, body, context) }))
    : [
        {
          split: header.split,
          ...(header.lineBase === undefined ? {} : { lineBase: header.lineBase }),
          ...(header.header === undefined ? {} : { header: header.header }),
          source: mapSource(header, body, context),
        },
      ];
  const total = parts.reduce((n, part) => n + part.split.length, 0);
  const progress = new ProgressThrottle(total);
  const step = definition.steps[header.step ?? 0];
  const reduces = step !== undefined && stepReduces(step);
  const summary = await runMapParts(
    definition,
    taskSpec(header),
    parts,
    (partition, chunk) => {
      channel.send(reduces ? partialFrame(partition, chunk) : outputFrame(chunk));
    },
    {
      onStatus: status.status,
      onProgress: (done) => {
        status.flush();
        if (progress.due(done, Date.now())) wjob.sendStatus(Math.min(done, total), total);
      },
    },
  );
  return completeAttempt(channel, summary);
}
