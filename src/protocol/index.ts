/** The wire layer's surface: packet table, parser and serializer (also the `gmr/protocol` entry). */
// Kept in the emitted .d.ts: the codec's types use Node's Buffer.
/// <reference types="node" preserve="true" />
export {
  HEADER_LENGTH,
  MAGIC_REQ,
  MAGIC_RES,
  PACKETS,
  SERVER_ONLY_TYPES,
  packetInfo,
  packetInfoByCode,
  type Magic,
  type Packet,
  type PacketInfo,
  type PacketOf,
  type PacketType,
} from './packets.ts';
export {
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_PORT,
  DEFAULT_SERVER,
  DEFAULT_SERVER_MAX_PACKET_SIZE,
  MAX_ARGUMENTS_BYTES,
  OUTPUT_HIGH_WATER_BYTES,
  MAX_TEXT_LINE,
  MAX_FUNCTION_NAME_BYTES,
  MAX_UNIQUE_BYTES,
  MIN_CAN_DO_TIMEOUT_MS,
} from './limits.ts';
export { nameProblem } from './names.ts';
export { PacketParser, decodeBody, type PacketParserOptions } from './parser.ts';
export { CONSTANT_PACKETS, encodePacket, encodePacketChunks } from './serializer.ts';
export {
  formatJobs,
  formatPriorityStatus,
  formatStatus,
  formatUniqueJobs,
  formatWorkers,
  parseErrLine,
  parseOkLine,
  parsePriorityStatusLines,
  parseShowJobsLines,
  parseShowUniqueJobsLines,
  parseStatusLines,
  parseWorkersLines,
  type FunctionStatus,
  type JobInfo,
  type PriorityStatus,
  type WorkerInfo,
} from './admin-text.ts';
