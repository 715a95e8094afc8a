/**
 * The reduce task runtime: a streaming k-way merge of sorted runs (run-merge.ts), grouped by
 * encodedKey in natural key order and handed to the step's `reduce` (values as an array) or
 * `reduceStream` (values streamed from the runs).
 *
 * Memory: `reduce` holds one key's values plus about one chunk per run; `reduceStream` only the
 * chunks. Values of one key come in run order (run 0's first), within a run in line order, or in
 * natural value order with `sortValues` (the runs are then sorted by value within a key).
 * What the reducer emits is written in emit order, in ~1 MiB chunks, to `sink`: output lines
 * (`format`) in the last step, pair records (`encodedKey TAB encodedValue`) before a later step.
 * In the last step, `keySink` receives one `<lines> TAB <encodedKey>` line per key that wrote
 * lines (`^` for reduceSetup, `$` for reduceTeardown), so that the driver can merge parts by key.
 */

import { TaskError } from '../../errors.ts';
import { defaultFormat } from '../job/define-job.ts';
import type { Params, ReduceContext } from '../job/define-job.ts';
import { normalizeJob } from '../job/job-steps.ts';
import { encodeJson, LineChunker, partialLine } from '../shuffle/encoding.ts';
import { KEYS_SETUP_MARK as SETUP_KEY, KEYS_TEARDOWN_MARK as TEARDOWN_KEY } from '../shuffle/task-protocol.ts';
import { malformed, RunHeap, RunReader, shorten } from './run-merge.ts';
import { messageOf, TaskFailure } from './task-failure.ts';
import { TaskState, type TaskHooks } from './task-state.ts';

export interface ReduceTaskSpec {
  job: string;
  /** The step this task runs (0-based, default 0). */
  step?: number;
  /** The reduce task number, which is also its partition. */
  index: number;
  partitions: number;
  params: Params;
}

export interface ReduceTaskSummary {
  /** Distinct keys reduced. */
  keys: number;
  /** Partial lines (values) read from all runs. */
  values: number;
  outputRecords: number;
  outputBytes: number;
  counters: Record<string, number>;
  status?: string;
}


export async function runReduceTask(
  job: object,
  spec: ReduceTaskSpec,
  runs: AsyncIterable<Buffer>[],
  sink: (chunk: Buffer) => void,
  hooks: TaskHooks = {},
  keySink?: (chunk: Buffer) => void,
): Promise<ReduceTaskSummary> {
  const definition = normalizeJob(job, spec.job);
  const stepIndex = spec.step ?? 0;
  const step = definition.steps[stepIndex];
  const reduce = step?.reduce;
  const reduceStream = step?.reduceStream;
  if (step === undefined || (reduce === undefined && reduceStream === undefined)) {
    throw new TaskError(
      `${spec.job} reduce task ${spec.index}: expected step ${stepIndex + 1} of ${definition.steps.length} to have a reduce function (a map-only step has no reduce phase)`,
    );
  }
  const lastStep = stepIndex === definition.steps.length - 1;
  const prefix = `${spec.job}${definition.steps.length > 1 ? ` step ${stepIndex + 1}` : ''} reduce task ${spec.index}`;
  const state = new TaskState(hooks);
  const out = new LineChunker(sink);
  const keysOut = lastStep && keySink !== undefined ? new LineChunker(keySink) : undefined;
  const format = definition.format ?? defaultFormat;
  let outputRecords = 0;
  const emit = (key: unknown, value?: unknown): void => {
    if (lastStep) {
      out.write(`${format(key, value)}\n`);
    } else {
      const encKey = encodeJson(key);
      if (encKey === undefined) throw new TaskError(`expected a JSON-encodable key, received ${String(key)}`);
      const encValue = value === undefined ? 'null' : encodeJson(value);
      if (encValue === undefined) throw new TaskError(`expected a JSON-encodable value, received ${String(value)}`);
      out.write(partialLine(encKey, encValue));
    }
    outputRecords++;
  };
  const ctx: ReduceContext = {
    params: spec.params,
    task: { job: spec.job, phase: 'reduce', index: spec.index, step: stepIndex, steps: definition.steps.length },
    emit,
    count: (name: string, amount?: number) => state.count(name, amount),
    status: (message: string) => state.setStatus(message),
  };
  const fail = (err: unknown, context: string, encKey?: string): TaskFailure =>
    new TaskFailure(
      `${prefix} failed ${context}: ${messageOf(err)}`,
      { job: spec.job, phase: 'reduce', index: spec.index, ...(encKey === undefined ? {} : { key: encKey }) },
      { cause: err },
    );
  /** Notes, for the driver's merge, how many lines the group `mark` wrote since `before`. */
  const noteKey = (mark: string, before: number): void => {
    if (keysOut !== undefined && outputRecords > before) keysOut.write(`${outputRecords - before}\t${mark}\n`);
  };

  let bytesRead = 0;
  const onBytes = hooks.onProgress
    ? (n: number) => {
        bytesRead += n;
        hooks.onProgress?.(bytesRead);
      }
    : undefined;
  const sortValues = step.sortValues === true;
  const readers = runs.map((run, i) => new RunReader(run, i, prefix, onBytes, sortValues));

  let taskState: unknown;
  try {
    await step.setup?.(ctx);
    if (step.reduceSetup !== undefined) taskState = await step.reduceSetup(ctx);
  } catch (err) {
    throw fail(err, 'in setup');
  }
  noteKey(SETUP_KEY, 0);

  const heap = new RunHeap();
  for (const r of readers) if (await r.advance()) heap.push(r);
  /** Moves the top run past its head line when its next line is buffered; false when a read is needed (then call pop). */
  const popSync = (): boolean => {
    const more = heap.top().advanceSync();
    if (more === undefined) return false;
    if (more) heap.siftTop();
    else heap.popTop();
    return true;
  };
  /** After popSync returned false: reads the top run's next line, then moves past its head line. */
  const popAfterRead = async (): Promise<void> => {
    if (await heap.top().advance()) heap.siftTop();
    else heap.popTop();
  };

  let keys = 0;
  let values = 0;
  const encValues: string[] = [];
  while (heap.size > 0) {
    const encKey = heap.top().key;
    const before = outputRecords;
    const key = parsePart(encKey, encKey, heap.top().value, prefix);
    keys++;
    let result: unknown;
    if (reduceStream !== undefined) {
      let open = true;
      // A bad run met while streaming is the run's fault, not the reducer's: reported as it is.
      let runError: unknown;
      async function* stream(): AsyncGenerator<unknown> {
        while (open && heap.size > 0 && heap.top().key === encKey) {
          const encValue = heap.top().value;
          let value: unknown;
          try {
            value = parsePart(encValue, encKey, encValue, prefix);
            if (!popSync()) await popAfterRead();
          } catch (err) {
            runError = err;
            throw err;
          }
          values++;
          yield value;
        }
      }
      try {
        result = await reduceStream(key, stream(), ctx, taskState);
      } catch (err) {
        throw runError ?? fail(err, `on key ${shorten(encKey)}`, encKey);
      }
      open = false;
      while (heap.size > 0 && heap.top().key === encKey) {
        if (!popSync()) await popAfterRead();
        values++;
      }
    } else {
      encValues.length = 0;
      do {
        encValues.push(heap.top().value);
        if (!popSync()) await popAfterRead();
      } while (heap.size > 0 && heap.top().key === encKey);
      values += encValues.length;
      const vals = new Array<unknown>(encValues.length);
      for (let i = 0; i < encValues.length; i++) {
        const encValue = encValues[i] as string;
        vals[i] = parsePart(encValue, encKey, encValue, prefix);
      }
      try {
        result = (reduce as NonNullable<typeof reduce>)(key, vals, ctx, taskState);
      } catch (err) {
        throw fail(err, `on key ${shorten(encKey)}`, encKey);
      }
    }
    if (result !== undefined) {
      try {
        emit(key, result);
      } catch (err) {
        throw fail(err, `on key ${shorten(encKey)}`, encKey);
      }
    }
    noteKey(encKey, before);
  }

  const beforeTeardown = outputRecords;
  try {
    await step.reduceTeardown?.(ctx, taskState);
    await step.teardown?.(ctx);
  } catch (err) {
    throw fail(err, 'in teardown');
  }
  noteKey(TEARDOWN_KEY, beforeTeardown);
  out.flush();
  keysOut?.flush();
  const summary: ReduceTaskSummary = {
    keys,
    values,
    outputRecords,
    outputBytes: out.bytes,
    counters: state.counterRecord(),
  };
  if (state.status !== undefined) summary.status = state.status;
  return summary;
}

function parsePart(text: string, encKey: string, encValue: string, prefix: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(`${encKey}\t${encValue}`, prefix);
  }
}
