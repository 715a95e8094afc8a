/**
 * What the server refuses before it stores anything, as the ERROR code and text to send: function
 * names over 8 KiB or with control characters, uniques too long or with control characters, and
 * a job that would pass the memory budget.
 */
import { MAX_FUNCTION_NAME_BYTES, MAX_UNIQUE_BYTES } from '../protocol/limits.ts';
import { nameProblem } from '../protocol/names.ts';

export type Refusal = [code: string, text: string];

/** CAN_DO*, SUBMIT_* and `create function`. */
export function functionNameProblem(name: string): Refusal | undefined {
  const problem = nameProblem('Function name', name, MAX_FUNCTION_NAME_BYTES);
  if (problem === undefined) return undefined;
  return [Buffer.byteLength(name) > MAX_FUNCTION_NAME_BYTES ? 'ARGUMENT_TOO_LARGE' : 'INVALID_FUNCTION_NAME', problem];
}

/** A SUBMIT_*'s function and unique. */
export function submitProblem(fn: string, unique: string): Refusal | undefined {
  return uniqueTooLarge(unique) ?? functionNameProblem(fn) ?? uniqueProblem(unique);
}

/**
 * A SUBMIT_*'s unique alone, for a function already known (its name was checked when its record
 * was made): the same refusals, in the same order, as submitProblem.
 */
export function knownFunctionSubmitProblem(unique: string): Refusal | undefined {
  if (unique === '') return undefined;
  return uniqueTooLarge(unique) ?? uniqueProblem(unique);
}

/** gearmand's own words for a long unique (its clients match on them). */
function uniqueTooLarge(unique: string): Refusal | undefined {
  return Buffer.byteLength(unique) > MAX_UNIQUE_BYTES ? ['ARGUMENT_TOO_LARGE', 'Unique value too large'] : undefined;
}

function uniqueProblem(unique: string): Refusal | undefined {
  const problem = nameProblem('Unique', unique, MAX_UNIQUE_BYTES);
  return problem === undefined ? undefined : ['INVALID_ARGUMENT', problem];
}

/** A new job of `bytes` when jobs already hold `held` bytes; a budget of 0 is no limit. */
export function memoryProblem(held: number, bytes: number, budget: number): Refusal | undefined {
  if (budget === 0 || held + bytes <= budget) return undefined;
  return [
    'QUEUE_ERROR',
    `Server memory budget full: jobs hold ${held} of ${budget} bytes (maxMemory, gmr server --max-memory); a job of ${bytes} bytes is refused`,
  ];
}
