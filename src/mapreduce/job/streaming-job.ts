/**
 * Streaming jobs (Hadoop Streaming's contract): executables as mapper, combiner and reducer. A
 * StreamingSpec is the commands as words (never a shell line), the key separator and the number
 * of key fields; its name `stream-<hash>` is what driver and workers agree on, so a worker only
 * serves the spec it was started with, whatever a payload says.
 */
import { createHash } from 'node:crypto';
import { JobDefinitionError, UsageError } from '../../errors.ts';
import type { LoadedJobDefinition, LoadedStep } from './define-job.ts';
import type { LoadedJob } from './load-job.ts';

export interface StreamingSpec {
  /** Each command as its words: the program, then its arguments (see splitCommand). */
  mapper: string[];
  combiner?: string[];
  reducer?: string[];
  /** Between key and value in what the mapper and combiner write (Hadoop's stream.map.output.field.separator). Default TAB. */
  separator: string;
  /** Fields of a mapper's line that make the key (Hadoop's stream.num.map.output.key.fields). Default 1. */
  keyFields: number;
}

/** The streaming roles, as their flags name them. */
export type StreamingRole = 'mapper' | 'combiner' | 'reducer';

/** What a shell would make of these characters, unquoted; gmr runs no shell, so it refuses them. */
const SHELL_CHARACTERS = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}']);

/**
 * The words of a command line, split as a POSIX shell splits plain words: blanks separate,
 * '…' quotes literally, "…" quotes with \\ \" \$ \` escapes, a backslash escapes the next
 * character. Nothing is expanded: an unquoted shell character (`|`, `>`, `$`, `*`, …) is refused
 * with a message that says how to ask for a shell (`sh -c '…'`) explicitly.
 */
export function splitCommand(text: string, flag: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const refuse = (what: string): never => {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a program and its arguments, received ${what}; gmr runs no shell: to use one, ask for it: ${flag} "sh -c '${text.replace(/'/g, "'\\''")}'"`);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a closing ' for the quote at character ${i + 1}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '\\"$`'.includes(text[j + 1] as string)) j++;
        else if (text[j] === '$' || text[j] === '`') refuse(`${text[j]} inside "…" (an expansion)`);
        value += text[j];
      }
      if (j >= text.length) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a closing " for the quote at character ${i + 1}`);
      word = (word ?? '') + value;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a character after the final backslash`);
      word = (word ?? '') + text[++i];
    } else if (SHELL_CHARACTERS.has(c) || ((c === '~' || c === '#') && word === undefined)) {
      refuse(`an unquoted ${c}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new UsageError(`${flag} expects a command (a program and its arguments), received ${JSON.stringify(text)}`);
  return words;
}

/** Checks a spec's fields (from the CLI, a program or a payload); throws naming the first bad one. */
export function checkStreamingSpec(spec: StreamingSpec): StreamingSpec {
  const isCommand = (c: unknown): c is string[] => Array.isArray(c) && c.length > 0 && c.every((w) => typeof w === 'string') && c[0] !== '';
  for (const role of ['mapper', 'combiner', 'reducer'] as const) {
    const command = spec[role];
    if ((role === 'mapper' || command !== undefined) && !isCommand(command)) {
      throw new UsageError(`--${role} expects a command: a program and its arguments, received ${JSON.stringify(command)}`);
    }
  }
  if (spec.combiner !== undefined && spec.reducer === undefined) throw new UsageError('--combiner needs --reducer: a map-only job has no sorted map output to combine');
  if (typeof spec.separator !== 'string' || spec.separator === '' || spec.separator.includes('\n')) {
    throw new UsageError(`--separator expects one or more characters other than a newline, received ${JSON.stringify(spec.separator)}`);
  }
  if (!Number.isInteger(spec.keyFields) || spec.keyFields < 1) throw new UsageError(`--key-fields expects a whole number >= 1, received ${String(spec.keyFields)}`);
  return spec;
}

/** What makes two specs the same job: the commands' words, the separator and the key fields. */
function identity(spec: StreamingSpec): string {
  return JSON.stringify([spec.mapper, spec.combiner ?? null, spec.reducer ?? null, spec.separator, spec.keyFields]);
}

/** SHA-256 (hex) of what makes the spec: the streaming job's module identity. */
export function streamingSha256(spec: StreamingSpec): string {
  return createHash('sha256').update(identity(spec)).digest('hex');
}

/** `stream-<12 hex>`: the job name, so task functions are gmr.map.stream-… and gmr.reduce.stream-…. */
export function streamingJobName(spec: StreamingSpec): string {
  return `stream-${streamingSha256(spec).slice(0, 12)}`;
}

/** True when two specs run the same commands the same way. */
export function sameStreamingSpec(a: StreamingSpec, b: StreamingSpec): boolean {
  return identity(a) === identity(b);
}

/** A command as a user reads it back (words with blanks or quotes quoted). */
export function commandText(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}

/** The flags that start a worker for this spec (`--streaming --mapper '…' …`), as argv words. */
export function streamingWorkerArgs(spec: StreamingSpec): string[] {
  const args = ['--streaming', '--mapper', commandText(spec.mapper)];
  if (spec.combiner) args.push('--combiner', commandText(spec.combiner));
  if (spec.reducer) args.push('--reducer', commandText(spec.reducer));
  if (spec.separator !== '\t') args.push('--separator', spec.separator);
  if (spec.keyFields !== 1) args.push('--key-fields', String(spec.keyFields));
  return args;
}

function runsInWorkers(role: string): () => never {
  return () => {
    throw new JobDefinitionError(`A streaming ${role} runs as a command in a gmr worker, not as a function in the driver`);
  };
}

/**
 * The job as the driver plans it: one step that maps (and reduces when there is a reducer). Its
 * functions are never called in the driver; workers run the commands.
 */
export function streamingJob(spec: StreamingSpec): LoadedJob {
  checkStreamingSpec(spec);
  const step: LoadedStep = { map: runsInWorkers('mapper'), ...(spec.reducer ? { reduce: runsInWorkers('reducer') } : {}) };
  const roles = [`mapper ${commandText(spec.mapper)}`, spec.combiner && `combiner ${commandText(spec.combiner)}`, spec.reducer && `reducer ${commandText(spec.reducer)}`];
  const definition: LoadedJobDefinition = { ...step, steps: [step], description: `streaming: ${roles.filter(Boolean).join(', ')}` };
  return { name: streamingJobName(spec), source: definition.description ?? '', sha256: streamingSha256(spec), builtin: false, definition };
}
