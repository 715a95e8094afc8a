/**
 * What the job model knows of a connected peer: who it is and how to send it packets. The socket
 * class implements it; the broker, the registry and the records see nothing else of the socket.
 */
import type { Packet } from '../protocol/index.ts';

export interface Peer {
  /** The connection number admin `workers` prints where gearmand prints a descriptor. */
  readonly id: number;
  readonly remoteAddress: string;
  /** SET_CLIENT_ID, `-` until one is sent. */
  readonly clientId: string;
  /** OPTION_REQ "exceptions": WORK_EXCEPTION is forwarded instead of turned into WORK_FAIL. */
  readonly exceptions: boolean;
  /** A RES packet of up to four text arguments and an optional trailing payload. */
  send(code: number, data: Buffer | undefined, a?: string, b?: string, c?: string, d?: string): void;
  /** A RES packet of one text argument and a payload copied from `src[start, end)`. */
  sendFrom(code: number, text: string, src: Buffer, start: number, end: number): void;
  /** Any packet, through the generic encoder (replies with more arguments). */
  sendPacket(packet: Packet): void;
  sendError(code: string, text: string): void;
  sendNoop(): void;
  sendNoJob(): void;
}
