/**
 * Typed job parameters: a job's `params` spec (string, number, integer, boolean, list; default,
 * required, validate), the check the driver runs on `--param` values before any task starts, and
 * the listing `gmr run <job> --help` prints.
 */
import { UsageError } from '../../errors.ts';

export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'list';

/** A parameter's value after the check: a list is an array of strings (`--param tags=a,b`). */
export type ParamValue = string | number | boolean | readonly string[];

/** `--param k=v` values after types and defaults were applied (see checkParams). */
export type Params = Readonly<Record<string, ParamValue>>;

export interface ParamSpec {
  description: string;
  /** Default `'string'`. */
  type?: ParamType;
  required?: boolean;
  /** Used when the param is not given; text is read as `--param` text is. */
  default?: ParamValue;
  /**
   * Checks a value of the right type: return (or throw) a description of what is wrong with it,
   * or nothing when it is fine. It runs in the driver before any task starts.
   */
  validate?: (value: ParamValue) => string | undefined | void;
}

const TYPE_WORDS: Record<ParamType, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  list: 'a comma-separated list',
};

const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false, on: true, off: false };

/** Reads `--param` text (or a default or a library caller's value) as the spec's type; undefined when it does not fit. */
function coerce(type: ParamType, value: ParamValue): ParamValue | undefined {
  if (typeof value !== 'string') {
    if (type === 'list') return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
    if (type === 'integer') return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
    if (type === 'number') return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    if (type === 'boolean') return typeof value === 'boolean' ? value : undefined;
    return undefined;
  }
  const text = value.trim();
  switch (type) {
    case 'string':
      return value;
    case 'number': {
      const n = text === '' ? Number.NaN : Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'integer': {
      const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'boolean':
      return BOOLEANS[text.toLowerCase()];
    case 'list':
      return Object.freeze(text.split(',').map((v) => v.trim()).filter(Boolean));
    default: {
      const never: never = type;
      return never;
    }
  }
}

function shown(value: ParamValue): string {
  return JSON.stringify(value);
}

/** Runs the spec's validate; the text of what is wrong, or undefined. */
function validation(spec: ParamSpec, value: ParamValue): string | undefined {
  if (spec.validate === undefined) return undefined;
  try {
    const problem = spec.validate(value);
    return typeof problem === 'string' && problem !== '' ? problem : undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Applies the spec's types and defaults to `given` and checks it: every value of its type and
 * valid, every required param present, and (when the job declares `params`) no unknown names.
 * Throws one UsageError naming each param, what was expected and what was received.
 */
export function checkParams(
  specs: Readonly<Record<string, ParamSpec>> | undefined,
  given: Readonly<Record<string, ParamValue>>,
  jobName = 'this job',
): Params {
  if (specs === undefined) return Object.freeze({ ...given });
  const forJob = jobName === 'this job' ? 'for this job' : `for job ${jobName}`;
  const known = Object.keys(specs);
  const problems: string[] = [];
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(specs, name)) {
      problems.push(`Unknown param "${name}" ${forJob}; known: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    }
  }
  const params: Record<string, ParamValue> = {};
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const type = spec.type ?? 'string';
    const isGiven = Object.hasOwn(given, name);
    const raw = isGiven ? given[name] : spec.default;
    if (raw === undefined) {
      if (spec.required === true) missing.push(`${name} (${spec.description})`);
      continue;
    }
    const value = coerce(type, raw);
    const source = isGiven ? `--param ${name}` : `the default of param ${name}`;
    if (value === undefined) {
      problems.push(`${source} expects ${TYPE_WORDS[type]}, received ${shown(raw)}`);
      continue;
    }
    const problem = validation(spec, value);
    if (problem !== undefined) {
      problems.push(`${source} is not valid (received ${shown(raw)}): ${problem}`);
      continue;
    }
    params[name] = value;
  }
  if (missing.length > 0) {
    problems.push(`Missing required param${missing.length > 1 ? 's' : ''} ${forJob}: ${missing.join(', ')}; pass --param name=value`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return Object.freeze(params);
}

/** The job's params as `gmr run <job> --help` lists them, one line each. */
export function describeParams(specs: Readonly<Record<string, ParamSpec>> | undefined): string[] {
  if (specs === undefined) return ['  (this job does not declare its params; any --param K=V is passed as a string)'];
  const entries = Object.entries(specs);
  if (entries.length === 0) return ['  (none)'];
  const width = Math.max(...entries.map(([name]) => name.length));
  return entries.map(([name, spec]) => {
    const facts = [spec.type ?? 'string', ...(spec.required === true ? ['required'] : []), ...(spec.default === undefined ? [] : [`default ${shown(spec.default)}`])];
    return `  ${name.padEnd(width)}  ${spec.description} (${facts.join(', ')})`;
  });
}
