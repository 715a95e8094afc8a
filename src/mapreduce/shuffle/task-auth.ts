/**
 * HMAC-SHA256 signatures of task payloads and result streams with the run secret (docs/WIRE.md,
 * "Signatures", is the same contract for workers in other languages; keep them in step).
 *
 * - Task: payload = `<mac>\n<header>\n<body>`, mac = lower-case hex of
 *   HMAC-SHA256(secret, "gmr-task-v3\n" ‖ <header>\n<body>). The header names its own unique key,
 *   so the signature binds the payload to it; a worker compares it with the key it was assigned.
 * - Result: one MAC over the attempt's whole stream, from its B frame on:
 *   HMAC-SHA256(secret, "gmr-result-v3\n" ‖ unique ‖ "\n" ‖ for each WORK_DATA frame: decimal
 *   length ‖ "\n" ‖ frame ‖ then "C\n" ‖ summary (WORK_COMPLETE) or "X\n" ‖ message (WORK_EXCEPTION)).
 *   The final packet carries it: `<mac>\n<summary>` or `<mac>\n<message>`. The B frame holds the
 *   attempt id, so the MAC binds the result to the unique key and the attempt.
 */
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import { TaskError } from '../../errors.ts';

const MAC_HEX = 64;
const TASK_TAG = 'gmr-task-v3\n';
const RESULT_TAG = 'gmr-result-v3\n';

/** The run secret as HMAC key bytes (the UTF-8 bytes of the secret text). */
export type RunSecret = Buffer;

/** The shortest secret accepted: 16 bytes (128 bits, if random). */
export const MIN_SECRET_BYTES = 16;

export function secretFromText(text: string, from: string): RunSecret {
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new TaskError(`Run secret from ${from}: expected at least ${MIN_SECRET_BYTES} bytes, received ${secret.length}`);
  }
  return secret;
}

function hex(mac: Hmac): string {
  return mac.digest('hex');
}

function sameMac(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/** `<mac>\n` + signed, where signed is the unsigned payload (header line and body). */
export function signTask(secret: RunSecret, signed: Buffer): Buffer {
  const mac = hex(createHmac('sha256', secret).update(TASK_TAG).update(signed));
  return Buffer.concat([Buffer.from(`${mac}\n`, 'latin1'), signed]);
}

/** True when a payload starts with a signature line (64 hex digits and '\n'). */
export function isSignedPayload(payload: Buffer): boolean {
  if (payload.length <= MAC_HEX || payload[MAC_HEX] !== 0x0a) return false;
  return /^[0-9a-f]{64}$/.test(payload.toString('latin1', 0, MAC_HEX));
}

/**
 * The signed part of a payload whose signature verifies, or a TaskError that says what was wrong
 * without repeating any of the payload (a refused task reveals nothing to whoever sent it).
 */
export function verifyTask(secret: RunSecret, payload: Buffer): Buffer {
  if (!isSignedPayload(payload)) {
    throw new TaskError('Refused an unsigned task: expected a first line of 64 hex digits (HMAC-SHA256 with the run secret); is the driver using this worker\'s secret?');
  }
  const signed = payload.subarray(MAC_HEX + 1);
  const want = hex(createHmac('sha256', secret).update(TASK_TAG).update(signed));
  if (!sameMac(want, payload.toString('latin1', 0, MAC_HEX))) {
    throw new TaskError('Refused a task whose signature does not verify: the driver and this worker use different run secrets, or the payload was changed');
  }
  return signed;
}

/** The running MAC of one attempt's result stream (worker side signs, driver side verifies). */
export class ResultMac {
  #mac: Hmac;

  constructor(
    private readonly secret: RunSecret,
    private readonly unique: string,
  ) {
    this.#mac = this.#fresh();
  }

  #fresh(): Hmac {
    return createHmac('sha256', this.secret).update(RESULT_TAG).update(this.unique).update('\n');
  }

  /** Starts over (the B frame of a new attempt on the same handle). */
  restart(): void {
    this.#mac = this.#fresh();
  }

  frame(data: Buffer): void {
    this.#mac.update(`${data.length}\n`).update(data);
  }

  /** The final packet's data: `<mac>\n<text>`, for WORK_COMPLETE ('C') or WORK_EXCEPTION ('X'). */
  seal(kind: 'C' | 'X', text: Buffer): Buffer {
    const mac = hex(this.#mac.update(`${kind}\n`).update(text));
    return Buffer.concat([Buffer.from(`${mac}\n`, 'latin1'), text]);
  }

  /** The text of a final packet whose MAC verifies; undefined when it does not. */
  open(kind: 'C' | 'X', sealed: Buffer): Buffer | undefined {
    if (!isSignedPayload(sealed) && !(sealed.length === MAC_HEX + 1 && sealed[MAC_HEX] === 0x0a)) return undefined;
    const text = sealed.subarray(MAC_HEX + 1);
    const want = hex(this.#mac.update(`${kind}\n`).update(text));
    return sameMac(want, sealed.toString('latin1', 0, MAC_HEX)) ? text : undefined;
  }
}
