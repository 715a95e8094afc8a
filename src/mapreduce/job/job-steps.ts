/**
 * Reads a job module's default export into its runtime shape: the job's settings plus a list of
 * steps (a single-step job is one step, its own top-level members). Checks what can be checked at
 * load time: every step has a map or a reduce, hooks are functions, reducers, sortValues and
 * mapHooks fit.
 */
import { JobDefinitionError } from '../../errors.ts';
import type { LoadedJobDefinition, LoadedStep } from './define-job.ts';

const STEP_FUNCTIONS = [
  'mapSetup',
  'map',
  'mapBytes',
  'mapTeardown',
  'combine',
  'reduceSetup',
  'reduce',
  'reduceStream',
  'reduceTeardown',
  'partition',
  'setup',
  'teardown',
] as const;

const normalized = new WeakMap<object, LoadedJobDefinition>();

/** True when a step has a reduce phase (`reduce` or `reduceStream`). */
export function stepReduces(step: LoadedStep): boolean {
  return typeof step.reduce === 'function' || typeof step.reduceStream === 'function';
}

/**
 * The runtime shape of a job definition (cached per object). Throws JobDefinitionError naming
 * `where` (the module) and the step for anything malformed.
 */
export function normalizeJob(def: object, where = 'Job definition'): LoadedJobDefinition {
  const cached = normalized.get(def);
  if (cached !== undefined) return cached;
  const record = def as Record<string, unknown>;
  const rawSteps = record['steps'];
  let steps: LoadedStep[];
  if (rawSteps === undefined) {
    steps = [checkStep(record, where, undefined)];
  } else {
    if (!Array.isArray(rawSteps) || rawSteps.length === 0) {
      throw new JobDefinitionError(`${where}: expected steps to be a non-empty array of steps, received ${describeValue(rawSteps)}`);
    }
    for (const member of ['map', 'mapBytes', 'reduce', 'combine', 'reduceStream']) {
      if (record[member] !== undefined) {
        throw new JobDefinitionError(`${where}: expected either steps or a top-level ${member}, received both (move ${member} into a step)`);
      }
    }
    steps = rawSteps.map((s: unknown, i) => {
      if (typeof s !== 'object' || s === null) {
        throw new JobDefinitionError(`${where}: step ${i + 1} of ${rawSteps.length}: expected an object with map and/or reduce, received ${describeValue(s)}`);
      }
      return checkStep(s as Record<string, unknown>, where, i);
    });
  }
  const format = record['format'];
  if (format !== undefined && typeof format !== 'function') {
    throw new JobDefinitionError(`${where}: expected format to be a function, received ${describeValue(format)}`);
  }
  const job: LoadedJobDefinition = rawSteps === undefined ? { ...(steps[0] as LoadedStep), ...pickOptions(record), steps } : { ...pickOptions(record), steps };
  normalized.set(def, job);
  normalized.set(job, job);
  return job;
}

/** The job with each step replaced by `change(step)` (for wrappers such as the worker's failure report). */
export function withSteps(job: LoadedJobDefinition, change: (step: LoadedStep) => LoadedStep): LoadedJobDefinition {
  const steps = job.steps.map(change);
  const single = job.map !== undefined || job.mapBytes !== undefined || job.reduce !== undefined || job.reduceStream !== undefined;
  const changed: LoadedJobDefinition = single ? { ...job, ...(steps[0] as LoadedStep), steps } : { ...job, steps };
  normalized.set(changed, changed);
  return changed;
}

function pickOptions(record: Record<string, unknown>): Partial<LoadedJobDefinition> {
  const options: Partial<LoadedJobDefinition> = {};
  for (const name of ['description', 'lineNumbers', 'input', 'params', 'format'] as const) {
    if (record[name] !== undefined) Object.assign(options, { [name]: record[name] });
  }
  return options;
}

function checkStep(step: Record<string, unknown>, where: string, index: number | undefined): LoadedStep {
  const which = index === undefined ? where : `${where}: step ${index + 1}`;
  for (const name of STEP_FUNCTIONS) {
    const value = step[name];
    if (value !== undefined && typeof value !== 'function') {
      throw new JobDefinitionError(`${which}: expected ${name} to be a function, received ${describeValue(value)}`);
    }
  }
  const hasMap = typeof step['map'] === 'function' || typeof step['mapBytes'] === 'function';
  const hasReduce = typeof step['reduce'] === 'function' || typeof step['reduceStream'] === 'function';
  if (!hasMap && !hasReduce) {
    throw new JobDefinitionError(`${which}: expected a map (or mapBytes) or a reduce function (a step needs at least one), received neither (keys: ${Object.keys(step).join(', ') || 'none'})`);
  }
  if (step['reduce'] !== undefined && step['reduceStream'] !== undefined) {
    throw new JobDefinitionError(`${which}: expected reduce or reduceStream, received both`);
  }
  const reducers = step['reducers'];
  if (reducers !== undefined && (typeof reducers !== 'number' || !Number.isInteger(reducers) || reducers < 1)) {
    throw new JobDefinitionError(`${which}: expected reducers to be a whole number >= 1, received ${describeValue(reducers)}`);
  }
  if (reducers !== undefined && !hasReduce) {
    throw new JobDefinitionError(`${which}: reducers is set but the step has no reduce`);
  }
  const sortValues = step['sortValues'];
  if (sortValues !== undefined && typeof sortValues !== 'boolean') {
    throw new JobDefinitionError(`${which}: expected sortValues to be true or false, received ${describeValue(sortValues)}`);
  }
  const mapHooks = step['mapHooks'];
  if (mapHooks !== undefined && mapHooks !== 'per-split' && mapHooks !== 'per-task') {
    throw new JobDefinitionError(`${which}: expected mapHooks to be 'per-split' or 'per-task', received ${describeValue(mapHooks)}`);
  }
  return step as LoadedStep;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
