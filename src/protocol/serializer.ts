/**
 * Packet serializer. The length is computed first and the header and text arguments are written
 * into one small buffer; a large opaque payload is returned as its own chunk so that megabytes are
 * never concatenated (the socket writes both chunks with writev).
 */
import {
  HEADER_LENGTH,
  MAGIC_REQ,
  MAGIC_RES,
  packetInfo,
  type Magic,
  type Packet,
  type PacketType,
} from './packets.ts';

/** Payloads at least this big are sent as their own chunk instead of being copied. */
const SEPARATE_PAYLOAD_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);

function fieldsOf(packet: Packet): { text: string[]; data: Buffer | undefined } {
  const info = packetInfo(packet.type);
  const record = packet as unknown as Record<string, unknown>;
  const text: string[] = [];
  for (const arg of info.args) {
    const value = record[arg];
    text.push(typeof value === 'string' ? value : String(value ?? ''));
  }
  const data = info.data ? ((record['data'] as Buffer | undefined) ?? EMPTY) : undefined;
  return { text, data };
}

/**
 * Encodes a packet as one or two buffers (header plus text arguments, then a large payload).
 * Write them in order; use `encodePacket` when one buffer is wanted.
 */
export function encodePacketChunks(packet: Packet, magic: Magic): Buffer[] {
  const info = packetInfo(packet.type);
  const { text, data } = fieldsOf(packet);
  const fieldCount = text.length + (data === undefined ? 0 : 1);
  let textBytes = 0;
  for (const t of text) textBytes += Buffer.byteLength(t);
  const separators = fieldCount > 0 ? fieldCount - 1 : 0;
  const dataBytes = data === undefined ? 0 : data.length;
  const size = textBytes + separators + dataBytes;
  const separate = dataBytes >= SEPARATE_PAYLOAD_BYTES;
  const head = Buffer.allocUnsafe(HEADER_LENGTH + textBytes + separators + (separate ? 0 : dataBytes));
  head.writeUInt32BE(magic === 'REQ' ? MAGIC_REQ : MAGIC_RES, 0);
  head.writeUInt32BE(info.code, 4);
  head.writeUInt32BE(size, 8);
  let pos = HEADER_LENGTH;
  for (let i = 0; i < text.length; i++) {
    pos += head.write(text[i] as string, pos, 'utf8');
    if (i < fieldCount - 1) head[pos++] = 0;
  }
  if (data === undefined) return [head];
  if (separate) return [head, data];
  data.copy(head, pos);
  return [head];
}

/** Encodes a packet into a single buffer. */
export function encodePacket(packet: Packet, magic: Magic): Buffer {
  const chunks = encodePacketChunks(packet, magic);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function constant(type: PacketType, magic: Magic): Buffer {
  return encodePacket({ type } as Packet, magic);
}

/** Packets without arguments, built once. */
export const CONSTANT_PACKETS = {
  PRE_SLEEP: constant('PRE_SLEEP', 'REQ'),
  GRAB_JOB: constant('GRAB_JOB', 'REQ'),
  GRAB_JOB_UNIQ: constant('GRAB_JOB_UNIQ', 'REQ'),
  GRAB_JOB_ALL: constant('GRAB_JOB_ALL', 'REQ'),
  RESET_ABILITIES: constant('RESET_ABILITIES', 'REQ'),
  NOOP: constant('NOOP', 'RES'),
  NO_JOB: constant('NO_JOB', 'RES'),
} as const;
