/** Which input format a job reads a file with: its `input` (a name, or a function of path and params), checked. */
import type { InputFormat, Params } from './define-job.ts';

const FORMATS: readonly string[] = ['lines', 'csv', 'json'] satisfies InputFormat[];

/** The job's input format for `path`; throws when the job names one that does not exist. */
export function resolveInputFormat(
  input: InputFormat | ((path: string, params: Params) => InputFormat) | undefined,
  path: string,
  params: Params,
): InputFormat {
  const format: unknown = typeof input === 'function' ? input(path, params) : (input ?? 'lines');
  if (typeof format !== 'string' || !FORMATS.includes(format)) {
    throw new Error(`expected input format lines, csv or json, received ${JSON.stringify(format)}`);
  }
  return format as InputFormat;
}
