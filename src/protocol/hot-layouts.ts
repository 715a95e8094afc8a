/** The hot packets' argument layouts (submits, assignments, results), decoded straight into object literals. */
import { packetInfoByCode, type Packet, type PacketType } from './packets.ts';
import type { TextCache } from './text-cache.ts';

/**
 * The argument layouts of the packets every job passes through (submits, assignments, results),
 * decoded into object literals: all packets of a layout then share one shape, which keeps the
 * property reads of whoever handles them fast. Other types take the generic path.
 */
const FN = 1;
const HANDLE = 2;
const HANDLE_DATA = 3;
const FN_UNIQUE_DATA = 4;
const HANDLE_FN_UNIQUE_DATA = 5;
const LAYOUT_BY_ARGS: Record<string, number> = {
  fn: FN,
  handle: HANDLE,
  'handle+data': HANDLE_DATA,
  'fn,unique+data': FN_UNIQUE_DATA,
  'handle,fn,unique+data': HANDLE_FN_UNIQUE_DATA,
};
export const LAYOUTS: (number | undefined)[] = [];
for (let code = 0; code < 64; code++) {
  const info = packetInfoByCode(code);
  if (info) LAYOUTS[code] = LAYOUT_BY_ARGS[`${info.args.join(',')}${info.data ? '+data' : ''}`];
}

/** The first NUL from `start` before `to`, or -1. Text arguments are short: a loop beats a call. */
function nul(buf: Buffer, start: number, to: number): number {
  for (let i = start; i < to; i++) if (buf[i] === 0) return i;
  return -1;
}

/** Copies up to this many bytes by a loop: Buffer#copy of a range makes a view first. */
const COPY_LOOP_MAX = 64;

/**
 * The payload `buf[start, end)`: a view, or when it is at most `copyMax` bytes a copy of its own
 * (a server that keeps small payloads copies them anyway; copying here saves making the view).
 */
export function payloadOf(buf: Buffer, start: number, end: number, copyMax: number): Buffer {
  const length = end - start;
  if (length > copyMax) return buf.subarray(start, end);
  const own = Buffer.allocUnsafe(length);
  if (length > COPY_LOOP_MAX) buf.copy(own, 0, start, end);
  else for (let i = 0; i < length; i++) own[i] = buf[start + i] as number;
  return own;
}

/**
 * A hot layout's packet, or undefined when a separator is missing (the generic path says why, or
 * reads a short form). Function names go through `names` when given (the parser's TextCache);
 * payloads of up to `copyMax` bytes are copies (payloadOf).
 */
export function decodeLayout(
  layout: number,
  type: PacketType,
  buf: Buffer,
  from: number,
  to: number,
  names: TextCache | undefined,
  copyMax: number,
): Packet | undefined {
  let packet: object;
  switch (layout) {
    case FN:
      packet = { type, fn: names ? names.decode(buf, from, to) : buf.toString('utf8', from, to) };
      break;
    case HANDLE:
      packet = { type, handle: buf.toString('utf8', from, to) };
      break;
    case HANDLE_DATA: {
      const a = nul(buf, from, to);
      if (a < 0) return undefined;
      packet = { type, handle: buf.toString('utf8', from, a), data: payloadOf(buf, a + 1, to, copyMax) };
      break;
    }
    case FN_UNIQUE_DATA: {
      const a = nul(buf, from, to);
      const b = a < 0 ? -1 : nul(buf, a + 1, to);
      if (b < 0) return undefined;
      const fn = names ? names.decode(buf, from, a) : buf.toString('utf8', from, a);
      packet = { type, fn, unique: buf.toString('utf8', a + 1, b), data: payloadOf(buf, b + 1, to, copyMax) };
      break;
    }
    case HANDLE_FN_UNIQUE_DATA: {
      const a = nul(buf, from, to);
      const b = a < 0 ? -1 : nul(buf, a + 1, to);
      const c = b < 0 ? -1 : nul(buf, b + 1, to);
      if (c < 0) return undefined;
      const handle = buf.toString('utf8', from, a);
      const fn = names ? names.decode(buf, a + 1, b) : buf.toString('utf8', a + 1, b);
      packet = { type, handle, fn, unique: buf.toString('utf8', b + 1, c), data: payloadOf(buf, c + 1, to, copyMax) };
      break;
    }
    default:
      return undefined;
  }
  return packet as Packet;
}

