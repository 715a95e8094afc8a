/**
 * What a SUBMIT_* packet means: priority and background flag by type, the coalescing key of its
 * unique, its epoch, and a payload copy safe to keep for the life of the job.
 */
import { createHash } from 'node:crypto';
import type { Packet } from '../protocol/index.ts';
import { PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL, type Priority } from './records.ts';

export type SubmitPacket = Extract<
  Packet,
  {
    type:
      | 'SUBMIT_JOB'
      | 'SUBMIT_JOB_BG'
      | 'SUBMIT_JOB_HIGH'
      | 'SUBMIT_JOB_HIGH_BG'
      | 'SUBMIT_JOB_LOW'
      | 'SUBMIT_JOB_LOW_BG'
      | 'SUBMIT_JOB_EPOCH'
      | 'SUBMIT_REDUCE_JOB'
      | 'SUBMIT_REDUCE_JOB_BACKGROUND';
  }
>;

export interface SubmitKind {
  readonly priority: Priority;
  readonly background: boolean;
}

const kind = (priority: Priority, background: boolean): SubmitKind => Object.freeze({ priority, background });
const NORMAL = kind(PRIORITY_NORMAL, false);
const NORMAL_BG = kind(PRIORITY_NORMAL, true);
const HIGH = kind(PRIORITY_HIGH, false);
const HIGH_BG = kind(PRIORITY_HIGH, true);
const LOW = kind(PRIORITY_LOW, false);
const LOW_BG = kind(PRIORITY_LOW, true);

/** HIGH: SUBMIT_JOB_HIGH*; LOW: SUBMIT_JOB_LOW*; NORMAL: the rest (EPOCH and REDUCE included). */
export function submitKind(type: SubmitPacket['type']): SubmitKind {
  switch (type) {
    case 'SUBMIT_JOB':
    case 'SUBMIT_REDUCE_JOB':
      return NORMAL;
    case 'SUBMIT_JOB_BG':
    case 'SUBMIT_JOB_EPOCH':
    case 'SUBMIT_REDUCE_JOB_BACKGROUND':
      return NORMAL_BG;
    case 'SUBMIT_JOB_HIGH':
      return HIGH;
    case 'SUBMIT_JOB_HIGH_BG':
      return HIGH_BG;
    case 'SUBMIT_JOB_LOW':
      return LOW;
    case 'SUBMIT_JOB_LOW_BG':
      return LOW_BG;
    default: {
      const exhaustive: never = type;
      throw new Error(`not a submit: ${String(exhaustive)}`);
    }
  }
}

/**
 * The key jobs coalesce on within a function, or undefined when this submit never coalesces.
 * "Empty unique: never coalesced." "Unique `-`: the payload bytes act as the unique" (an empty
 * payload then counts as no unique). Payload keys are a digest, in their own key space (a leading
 * NUL, which a decoded unique argument cannot start with), so a big payload is not copied into a
 * string.
 */
export function coalescingKey(unique: string, data: Buffer): string | undefined {
  if (unique === '') return undefined;
  if (unique !== '-') return unique;
  if (data.length === 0) return undefined;
  return `\0${createHash('sha256').update(data).digest('base64')}`;
}

/** SUBMIT_JOB_EPOCH's decimal seconds as ms since 1970; 0 (run now) for nonsense, like strtoul. */
export function epochMs(epoch: string): number {
  const seconds = Number.parseInt(epoch, 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/**
 * Payloads up to this size reach the broker as copies of their own: the connection's parser copies
 * them out of the read chunk (PacketParser copyPayloadsUpTo), cheaper than a view and then a copy.
 */
export const OWNED_PAYLOAD_BYTES = 4096;

/**
 * A job's payload is kept until the job ends: never keep a view that pins a much larger socket
 * chunk. Small payloads are owned already (OWNED_PAYLOAD_BYTES); a bigger one is copied when it is
 * a view of a buffer more than twice its size, and kept as it is otherwise (the parser assembled
 * it in a buffer of its own). Reading `data.buffer` is a call into the runtime, so small payloads
 * are never asked.
 */
export function ownPayload(data: Buffer): Buffer {
  return data.length <= OWNED_PAYLOAD_BYTES || data.length * 2 >= data.buffer.byteLength ? data : Buffer.from(data);
}
