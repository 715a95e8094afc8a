/**
 * Incremental Gearman parser: one `push(chunk)` loop over a 12-byte header and `size` bytes.
 *
 * - Frames that lie inside one chunk are decoded from `subarray` views; only a frame that spans
 *   chunks is copied, once, into a buffer of its final size (no quadratic re-assembly).
 * - Argument splitting is bounded by `size` and by the packet's argument count, so a payload full
 *   of NULs stays one payload and a packet with too few NULs is an error, not a read into the next
 *   packet (gearmand 1.1.20 reads past `size` there; we do not).
 * - With `allowText`, a packet whose first byte is not 0 is an admin text line up to `\n`
 *   ("gearmand looks at the first byte of each packet"): one connection can mix the two.
 *
 * After a ProtocolError the stream is out of sync; the parser stays failed and the owner should
 * close the connection.
 */
import { ProtocolError } from '../errors.ts';
import {
  HEADER_LENGTH,
  MAGIC_REQ,
  MAGIC_RES,
  packetInfoByCode,
  type Magic,
  type Packet,
  type PacketInfo,
  type PacketType,
} from './packets.ts';
import { DEFAULT_MAX_PACKET_SIZE, MAX_ARGUMENTS_BYTES, MAX_TEXT_LINE } from './limits.ts';
import { LAYOUTS, decodeLayout, payloadOf } from './hot-layouts.ts';
import { TextCache } from './text-cache.ts';

/** First buffer for a frame that spans chunks; it doubles as data arrives, up to the frame's size. */
const INITIAL_FRAME_CAPACITY = 64 * 1024;

export interface PacketParserOptions {
  onPacket: (packet: Packet, magic: Magic) => void;
  /**
   * Sees every complete frame before it is decoded: its type code and its body, `buf[from, to)`
   * (valid only during the call). Returning true means the frame was handled from its bytes and
   * no packet is decoded; false, the frame goes on to `onPacket`. The server's hot results use it.
   */
  onFrame?: (code: number, magic: Magic, buf: Buffer, from: number, to: number) => boolean;
  /**
   * Payloads of up to this many bytes are handed out as copies of their own instead of views of
   * the read chunk (default 0: always views). A server that keeps payloads sets it, so a small
   * one never pins a whole chunk and is not viewed and then copied.
   */
  copyPayloadsUpTo?: number;
  /** Admin text lines (without the `\n` and a trailing `\r`); required with allowText. */
  onText?: (line: string) => void;
  allowText?: boolean;
  maxPacketSize?: number;
}

function hex(buf: Buffer, start: number, end: number): string {
  return buf.subarray(start, end).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/**
 * Short forms real peers send, read as if the missing trailing fields were empty ('0' for
 * WORK_STATUS's counts). Perl Gearman::Worker 2.004 sends `$v ? join("\0", $handle, $v) : $handle`,
 * so a result (or data, warning, exception) of '' or '0' arrives as the handle alone, and
 * WORK_STATUS without its denominator. Only fields after `present` may be missing.
 */
const SHORT_FORMS: Partial<Record<PacketType, { present: number; missing: string }>> = {
  WORK_COMPLETE: { present: 1, missing: '' },
  WORK_DATA: { present: 1, missing: '' },
  WORK_WARNING: { present: 1, missing: '' },
  WORK_EXCEPTION: { present: 1, missing: '' },
  WORK_STATUS: { present: 1, missing: '0' },
};

/** The big-endian word at `pos` (the caller has the 12 header bytes): Buffer#readUInt32BE is two calls. */
function uint32(buf: Buffer, pos: number): number {
  return (buf[pos] as number) * 0x1000000 + (((buf[pos + 1] as number) << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number));
}

export function decodeBody(info: PacketInfo, body: Buffer): Packet {
  return decodeRange(info, body, 0, body.length);
}

/** Packets without arguments carry nothing but their type: one frozen object per type serves them all. */
const ARGLESS = new Map<PacketType, Packet>();

/**
 * Decodes the body that lies in `buf` from `from` to `to`, without a view of the body itself: the
 * payload is the only Buffer made (a view), the text arguments are decoded in place.
 */
function decodeRange(info: PacketInfo, buf: Buffer, from: number, to: number, names?: TextCache, copyMax = 0): Packet {
  const count = info.fieldCount;
  if (count === 0) {
    let packet = ARGLESS.get(info.type);
    if (!packet) {
      packet = Object.freeze({ type: info.type }) as Packet;
      ARGLESS.set(info.type, packet);
    }
    return packet;
  }
  const layout = LAYOUTS[info.code];
  if (layout !== undefined) {
    const packet = decodeLayout(layout, info.type, buf, from, to, names, copyMax);
    if (packet) return packet;
  }
  const fields: Record<string, string | Buffer> = { type: info.type };
  let start = from;
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    let end = to;
    if (!last) {
      end = buf.indexOf(0, start);
      if (end >= to) end = -1;
      const short = end < 0 ? SHORT_FORMS[info.type] : undefined;
      if (short && i + 1 >= short.present) return decodeShort(info, fields, buf.toString('utf8', start, to), i, short.missing);
      if (end < 0) {
        throw new ProtocolError(
          `${info.type} expects ${count} arguments separated by NUL bytes, received ${i + 1} in ${to - from} bytes`,
          { fault: 'arguments' },
        );
      }
    }
    if (info.data && last) fields['data'] = payloadOf(buf, start, end, copyMax);
    else fields[info.args[i] as string] = buf.toString('utf8', start, end);
    start = end + 1;
  }
  return fields as unknown as Packet;
}

/** Field `i` is the rest of the body; the ones after it were left out by the sender. */
function decodeShort(info: PacketInfo, fields: Record<string, string | Buffer>, rest: string, i: number, missing: string): Packet {
  fields[info.args[i] as string] = rest;
  for (let j = i + 1; j < info.fieldCount; j++) {
    if (info.data && j === info.fieldCount - 1) fields['data'] = Buffer.alloc(0);
    else fields[info.args[j] as string] = missing;
  }
  return fields as unknown as Packet;
}

export class PacketParser {
  readonly #onPacket: PacketParserOptions['onPacket'];
  readonly #onFrame: PacketParserOptions['onFrame'];
  readonly #copyMax: number;
  readonly #onText: PacketParserOptions['onText'];
  readonly #allowText: boolean;
  readonly #maxPacketSize: number;

  /**
   * A frame that spans chunks: its buffer (header included), how much of it is filled, and its
   * final length. The buffer grows (doubling) with the bytes that really arrive, so a header that
   * declares a huge size costs memory only as its data comes in.
   */
  #frame: Buffer | undefined;
  #filled = 0;
  #frameLength = 0;
  /** A header that spans chunks. */
  #header = Buffer.alloc(HEADER_LENGTH);
  #headerFilled = 0;
  /** A text line that spans chunks. */
  #text: Buffer[] = [];
  #textLength = 0;
  #failed: ProtocolError | undefined;
  /** The last header read: its declared size and magic (see #readHeader). */
  #size = 0;
  #magic: Magic = 'REQ';
  /** The function name of the last hot packet, decoded once while a peer keeps sending it. */
  readonly #names = new TextCache();

  constructor(options: PacketParserOptions) {
    this.#onPacket = options.onPacket;
    this.#onFrame = options.onFrame;
    this.#copyMax = options.copyPayloadsUpTo ?? 0;
    this.#onText = options.onText;
    this.#allowText = options.allowText ?? false;
    this.#maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (this.#allowText && !this.#onText) throw new TypeError('allowText needs an onText callback');
  }

  /** True when no partial packet or line is buffered. */
  get idle(): boolean {
    return this.#frame === undefined && this.#headerFilled === 0 && this.#textLength === 0;
  }

  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#push(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) this.#failed = error;
      throw error;
    }
  }

  #push(chunk: Buffer): void {
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      if (this.#frame) {
        pos = this.#continueFrame(chunk, pos);
        continue;
      }
      if (this.#textLength > 0) {
        pos = this.#continueText(chunk, pos);
        continue;
      }
      if (this.#headerFilled > 0) {
        const take = Math.min(HEADER_LENGTH - this.#headerFilled, length - pos);
        chunk.copy(this.#header, this.#headerFilled, pos, pos + take);
        this.#headerFilled += take;
        pos += take;
        if (this.#headerFilled === HEADER_LENGTH) {
          this.#headerFilled = 0;
          const info = this.#readHeader(this.#header, 0);
          const size = this.#size;
          if (size === 0) this.#emit(info, this.#magic, this.#header, 0, 0);
          else {
            this.#header.copy(this.#startFrame(HEADER_LENGTH + size), 0);
            this.#filled = HEADER_LENGTH;
          }
        }
        continue;
      }
      // At a frame boundary.
      if (chunk[pos] !== 0 && this.#allowText) {
        pos = this.#continueText(chunk, pos);
        continue;
      }
      if (length - pos < HEADER_LENGTH) {
        if (chunk[pos] !== 0) this.#badMagic(chunk, pos, length);
        chunk.copy(this.#header, 0, pos, length);
        this.#headerFilled = length - pos;
        return;
      }
      const info = this.#readHeader(chunk, pos);
      const size = this.#size;
      const end = pos + HEADER_LENGTH + size;
      if (end <= length) {
        this.#emit(info, this.#magic, chunk, pos + HEADER_LENGTH, end);
        pos = end;
      } else {
        this.#startFrame(HEADER_LENGTH + size);
        chunk.copy(this.#reserve(length - pos), 0, pos, length);
        this.#filled = length - pos;
        return;
      }
    }
  }

  #startFrame(length: number): Buffer {
    this.#frameLength = length;
    const frame = Buffer.allocUnsafe(Math.min(length, INITIAL_FRAME_CAPACITY));
    this.#frame = frame;
    return frame;
  }

  /** Makes room for `bytes` more bytes in the spanning frame; returns its (maybe new) buffer. */
  #reserve(bytes: number): Buffer {
    const frame = this.#frame as Buffer;
    const need = this.#filled + bytes;
    if (need <= frame.length) return frame;
    // Doubling, until a quarter of the frame has arrived: then the peer means it, and the frame is
    // allocated at its full size once, instead of a last doubling copy that may overshoot.
    const size = need * 4 >= this.#frameLength ? this.#frameLength : Math.min(this.#frameLength, Math.max(need, frame.length * 2));
    const grown = Buffer.allocUnsafe(size);
    frame.copy(grown, 0, 0, this.#filled);
    this.#frame = grown;
    return grown;
  }

  #continueFrame(chunk: Buffer, pos: number): number {
    const take = Math.min(this.#frameLength - this.#filled, chunk.length - pos);
    const frame = this.#reserve(take);
    chunk.copy(frame, this.#filled, pos, pos + take);
    this.#filled += take;
    if (this.#filled === this.#frameLength) {
      this.#frame = undefined;
      this.#filled = 0;
      const info = this.#readHeader(frame, 0);
      this.#emit(info, this.#magic, frame, HEADER_LENGTH, this.#frameLength);
    }
    return pos + take;
  }

  #continueText(chunk: Buffer, pos: number): number {
    const newline = chunk.indexOf(10, pos);
    const end = newline < 0 ? chunk.length : newline;
    if (this.#textLength + (end - pos) > MAX_TEXT_LINE) {
      throw new ProtocolError(
        `Admin text line longer than ${MAX_TEXT_LINE} bytes without a newline (expected a command ending in \\n)`,
        { fault: 'text' },
      );
    }
    if (newline < 0) {
      // Copy: the caller may reuse the chunk's memory.
      this.#text.push(Buffer.from(chunk.subarray(pos)));
      this.#textLength += chunk.length - pos;
      return chunk.length;
    }
    let line: Buffer = chunk.subarray(pos, newline);
    if (this.#textLength > 0) {
      this.#text.push(line);
      line = Buffer.concat(this.#text);
      this.#text = [];
      this.#textLength = 0;
    }
    let lineEnd = line.length;
    if (lineEnd > 0 && line[lineEnd - 1] === 13) lineEnd--;
    (this.#onText as (line: string) => void)(line.toString('utf8', 0, lineEnd));
    return newline + 1;
  }

  /** Drops a partly received frame or line (the connection closed): its memory is free at once. */
  release(): void {
    this.#frame = undefined;
    this.#filled = 0;
    this.#frameLength = 0;
    this.#headerFilled = 0;
    this.#text = [];
    this.#textLength = 0;
  }

  /**
   * The header at `pos`: returns its type and leaves its size and magic in #size and #magic (the
   * header is read for every packet; an object for the three did not stay off the heap).
   */
  #readHeader(buf: Buffer, pos: number): PacketInfo {
    const word = uint32(buf, pos);
    if (word === MAGIC_REQ) this.#magic = 'REQ';
    else if (word === MAGIC_RES) this.#magic = 'RES';
    else return this.#badMagic(buf, pos, pos + 4);
    const code = uint32(buf, pos + 4);
    const info = packetInfoByCode(code);
    if (!info) {
      throw new ProtocolError(`Unknown packet type ${code}: expected a type between 1 and 42`, { fault: 'type' });
    }
    const size = uint32(buf, pos + 8);
    if (size > this.#maxPacketSize) {
      throw new ProtocolError(
        `${info.type} packet declares ${size} bytes of data, more than the maximum of ${this.#maxPacketSize}`,
        { fault: 'size' },
      );
    }
    if (!info.data && size > MAX_ARGUMENTS_BYTES) {
      throw new ProtocolError(
        `${info.type} packet declares ${size} bytes of arguments, more than the maximum of ${MAX_ARGUMENTS_BYTES} for a packet without a payload`,
        { fault: 'size' },
      );
    }
    this.#size = size;
    return info;
  }

  #badMagic(buf: Buffer, start: number, end: number): never {
    throw new ProtocolError(
      `Bad packet magic: expected 00 52 45 51 (\\0REQ) or 00 52 45 53 (\\0RES), received ${hex(buf, start, Math.min(end, start + 4))}`,
      { fault: 'magic' },
    );
  }

  #emit(info: PacketInfo, magic: Magic, buf: Buffer, from: number, to: number): void {
    if (this.#onFrame !== undefined && this.#onFrame(info.code, magic, buf, from, to)) return;
    this.#onPacket(decodeRange(info, buf, from, to, this.#names, this.#copyMax), magic);
  }
}
