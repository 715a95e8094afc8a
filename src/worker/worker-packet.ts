/**
 * What a packet from a job server means to a worker. Only NOOP, NO_JOB, the JOB_ASSIGN family and
 * ERROR matter; the exhaustive switch makes a new packet type a compile error here, not a silent
 * drop in the worker.
 */
import type { Packet, PacketType } from '../protocol/packets.ts';

export type WorkerInput =
  | { kind: 'noop' }
  | { kind: 'no-job' }
  | { kind: 'assign'; type: PacketType; handle: string; fn: string; unique: string; payload: Buffer }
  | { kind: 'error'; code: string; text: string }
  | { kind: 'ignore' }
  | { kind: 'unexpected'; type: PacketType };

export function readWorkerPacket(packet: Packet): WorkerInput {
  switch (packet.type) {
    case 'NOOP':
      return { kind: 'noop' };
    case 'NO_JOB':
      return { kind: 'no-job' };
    case 'JOB_ASSIGN_UNIQ':
    case 'JOB_ASSIGN_ALL': // a GRAB_JOB_ALL answer; the reducer is not ours to act on
      return { kind: 'assign', type: packet.type, handle: packet.handle, fn: packet.fn, unique: packet.unique, payload: packet.data };
    case 'JOB_ASSIGN': // a GRAB_JOB answer: no unique
      return { kind: 'assign', type: packet.type, handle: packet.handle, fn: packet.fn, unique: '', payload: packet.data };
    case 'ERROR':
      return { kind: 'error', code: packet.code, text: packet.text };
    case 'OPTION_RES':
    case 'ECHO_RES':
      return { kind: 'ignore' };
    case 'CAN_DO': case 'CANT_DO': case 'RESET_ABILITIES': case 'PRE_SLEEP': case 'UNUSED':
    case 'SUBMIT_JOB': case 'JOB_CREATED': case 'GRAB_JOB': case 'WORK_STATUS': case 'WORK_COMPLETE':
    case 'WORK_FAIL': case 'GET_STATUS': case 'ECHO_REQ': case 'SUBMIT_JOB_BG': case 'STATUS_RES':
    case 'SUBMIT_JOB_HIGH': case 'SET_CLIENT_ID': case 'CAN_DO_TIMEOUT': case 'ALL_YOURS':
    case 'WORK_EXCEPTION': case 'OPTION_REQ': case 'WORK_DATA': case 'WORK_WARNING': case 'GRAB_JOB_UNIQ':
    case 'SUBMIT_JOB_HIGH_BG': case 'SUBMIT_JOB_LOW': case 'SUBMIT_JOB_LOW_BG': case 'SUBMIT_JOB_SCHED':
    case 'SUBMIT_JOB_EPOCH': case 'SUBMIT_REDUCE_JOB': case 'SUBMIT_REDUCE_JOB_BACKGROUND':
    case 'GRAB_JOB_ALL': case 'GET_STATUS_UNIQUE': case 'STATUS_RES_UNIQUE':
      return { kind: 'unexpected', type: packet.type };
    default:
      return assertNever(packet);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`Unhandled packet ${JSON.stringify(value)}`);
}
