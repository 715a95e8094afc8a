/**
 * A streaming reduce task: the partition's sorted runs merged (run-merge.ts, natural key order,
 * equal keys adjacent, runs in order), fed to the reducer command as `key SEP value` lines, and
 * the reducer's stdout lines are the output, as they are. The merge is pulled only as fast as
 * the reducer reads, so memory stays at about a chunk per run.
 */
import type { ReduceTaskHeader } from '../shuffle/task-protocol.ts';
import type { ReduceTaskSummary } from './reduce-task.ts';
import { malformed, RunHeap, RunReader } from './run-merge.ts';
import { runCommand } from './streaming-child.ts';
import { commandOptions, pairLine, type CommandSetting } from './streaming-map.ts';
import { LineChunker } from '../shuffle/encoding.ts';

const BATCH_CHARS = 64 * 1024;

/** A run's encoded key or value as the command reads it: a JSON string as its text, anything else as JSON. */
function text(encoded: string, line: string, prefix: string): string {
  if (encoded.charCodeAt(0) !== 0x22) return encoded;
  try {
    return JSON.parse(encoded) as string;
  } catch {
    throw malformed(line, prefix);
  }
}

export async function runStreamingReduce(
  setting: CommandSetting,
  header: ReduceTaskHeader,
  runs: AsyncIterable<Buffer>[],
  output: (chunk: Buffer) => Promise<void>,
  progress: (bytesDone: number) => void,
): Promise<ReduceTaskSummary> {
  const { spec } = setting;
  const reducer = spec.reducer as string[];
  const prefix = `${header.job} reduce task ${header.task}`;
  let bytesRead = 0;
  const readers = runs.map(
    (run, i) =>
      new RunReader(run, i, prefix, (n) => {
        bytesRead += n;
        progress(bytesRead);
      }),
  );
  let keys = 0;
  let values = 0;
  const input = (async function* (): AsyncGenerator<Buffer> {
    const heap = new RunHeap();
    for (const r of readers) if (await r.advance()) heap.push(r);
    let batch = '';
    let lastKey: string | undefined;
    while (heap.size > 0) {
      const top = heap.top();
      if (top.key !== lastKey) {
        keys++;
        lastKey = top.key;
      }
      values++;
      const line = `${top.key}\t${top.value}`;
      batch += pairLine(text(top.key, line, prefix), text(top.value, line, prefix), spec.separator);
      let more = top.advanceSync();
      if (more === undefined) more = await top.advance();
      if (more) heap.siftTop();
      else heap.popTop();
      if (batch.length >= BATCH_CHARS) {
        yield Buffer.from(batch);
        batch = '';
      }
    }
    if (batch !== '') yield Buffer.from(batch);
  })();

  let sending: Promise<void> | undefined;
  const out = new LineChunker((chunk) => {
    const sent = output(chunk);
    sending = sending === undefined ? sent : Promise.all([sending, sent]).then(() => {});
  });
  let outputRecords = 0;
  await runCommand(
    commandOptions(setting, 'reducer', reducer, {
      input,
      onLine: (line) => {
        outputRecords++;
        out.write(`${line}\n`);
        const pending = sending;
        sending = undefined;
        return pending;
      },
    }),
  );
  out.flush();
  if (sending !== undefined) await sending;
  const summary: ReduceTaskSummary = { keys, values, outputRecords, outputBytes: out.bytes, counters: setting.state.counterRecord() };
  if (setting.state.status !== undefined) summary.status = setting.state.status;
  return summary;
}
