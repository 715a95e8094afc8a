/**
 * The streaming flags that `gmr run` and `gmr worker` share (--mapper, --combiner, --reducer,
 * --separator, --key-fields), and the StreamingSpec they make: the same words on both sides name
 * the same job, so a worker serves a run only when it was started with the run's commands.
 */
import { UsageError } from '../errors.ts';
import { parseWhole } from '../mapreduce/driver/run-options.ts';
import { checkStreamingSpec, splitCommand, type StreamingSpec } from '../mapreduce/job/streaming-job.ts';

const SECTION = 'Streaming (any executable as mapper, combiner, reducer; no shell)';

export const STREAMING_FLAGS = {
  mapper: { type: 'string', value: 'CMD', section: SECTION, help: 'a program and its arguments: reads lines on stdin, writes key<TAB>value lines' },
  combiner: { type: 'string', value: 'CMD', section: SECTION, help: "runs on each map task's output, sorted by key (needs --reducer)" },
  reducer: { type: 'string', value: 'CMD', section: SECTION, help: 'reads key<TAB>value lines sorted by key; its lines are the output\n(without it the job is map-only: the mapper\'s lines are the output)' },
  separator: { type: 'string', value: 'TEXT', defaultText: 'TAB', section: SECTION, help: 'between key and value in what the mapper and combiner write' },
  'key-fields': { type: 'string', value: 'N', defaultText: '1', section: SECTION, help: 'fields of a line that make its key' },
} as const;

interface StreamingValues {
  mapper: string | undefined;
  combiner: string | undefined;
  reducer: string | undefined;
  separator: string | undefined;
  'key-fields': string | undefined;
}

/** The spec the flags give; undefined when none of them is there. */
export function streamingSpec(values: StreamingValues): StreamingSpec | undefined {
  const { mapper, combiner, reducer } = values;
  if (mapper === undefined) {
    const stray = (['combiner', 'reducer', 'separator', 'key-fields'] as const).find((name) => values[name] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} is for streaming jobs: give --mapper CMD too`);
    return undefined;
  }
  return checkStreamingSpec({
    mapper: splitCommand(mapper, '--mapper'),
    ...(combiner === undefined ? {} : { combiner: splitCommand(combiner, '--combiner') }),
    ...(reducer === undefined ? {} : { reducer: splitCommand(reducer, '--reducer') }),
    separator: values.separator ?? '\t',
    keyFields: parseWhole(values['key-fields'], '--key-fields', 1) ?? 1,
  });
}
