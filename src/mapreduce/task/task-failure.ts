/**
 * A map or reduce task that failed on a particular record or key. The message carries everything
 * a user needs (`wordcount map task 3 failed on data/a.txt@0+1048576, line 17 (byte 912): boom`);
 * the same facts are fields, so the driver can report and retry without parsing the message.
 */

import { TaskError } from '../../errors.ts';

export interface TaskFailureDetails {
  job: string;
  phase: 'map' | 'reduce';
  index: number;
  /** Map: the split. */
  path?: string;
  offset?: number;
  length?: number;
  /** Map: the failing record's line (lineBase + line in split) and absolute byte offset. */
  line?: number;
  recordOffset?: number;
  /** Reduce: the encoded key (JSON) being reduced. */
  key?: string;
}

export class TaskFailure extends TaskError {
  readonly job: string;
  readonly phase: 'map' | 'reduce';
  readonly index: number;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  readonly length: number | undefined;
  readonly line: number | undefined;
  readonly recordOffset: number | undefined;
  readonly key: string | undefined;

  constructor(message: string, details: TaskFailureDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.job = details.job;
    this.phase = details.phase;
    this.index = details.index;
    this.path = details.path;
    this.offset = details.offset;
    this.length = details.length;
    this.line = details.line;
    this.recordOffset = details.recordOffset;
    this.key = details.key;
  }

  /** The same failure with another message (the report adds where in the user's code it happened). */
  withMessage(message: string): TaskFailure {
    const details: TaskFailureDetails = { job: this.job, phase: this.phase, index: this.index };
    for (const key of ['path', 'offset', 'length', 'line', 'recordOffset', 'key'] as const) {
      if (this[key] !== undefined) Object.assign(details, { [key]: this[key] });
    }
    return new TaskFailure(message, details, { cause: this.cause });
  }
}

/** The message of whatever was thrown (user code may throw non-Errors). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
