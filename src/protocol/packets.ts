/**
 * The Gearman binary packet table, gearmand 1.1.20's (libgearman/command.cc), as one table that
 * drives the parser, the serializer and the types.
 *
 * Framing: `magic(4) type(uint32 BE) size(uint32 BE) data(size)`. The data holds the arguments
 * joined by single NULs; the last argument is not NUL-terminated and runs to the end of `size`, so
 * an opaque payload (always last) may itself contain NULs. A packet with N arguments has N-1 NULs.
 *
 * `args` lists the NUL-terminated text arguments in wire order; `data: true` means one opaque
 * trailing argument follows them (a Buffer). Without `data`, the last entry of `args` is the
 * trailing argument. Argument counts are the real ones, not PROTOCOL's: SUBMIT_REDUCE_JOB carries
 * 4 arguments before the data ("PROTOCOL lists only 3 NUL args; gearmand and libgearman use 4").
 */

export const HEADER_LENGTH = 12;
/** "\0REQ": packets sent to the server. */
export const MAGIC_REQ = 0x00524551;
/** "\0RES": packets sent by the server. */
export const MAGIC_RES = 0x00524553;

export type Magic = 'REQ' | 'RES';

interface PacketSpec {
  readonly code: number;
  readonly args: readonly string[];
  readonly data?: true;
}

export const PACKETS = {
  CAN_DO: { code: 1, args: ['fn'] },
  CANT_DO: { code: 2, args: ['fn'] },
  RESET_ABILITIES: { code: 3, args: [] },
  PRE_SLEEP: { code: 4, args: [] },
  /** Type 5 is unused; gearmand answers it with ERROR INVALID_COMMAND. */
  UNUSED: { code: 5, args: [] },
  NOOP: { code: 6, args: [] },
  SUBMIT_JOB: { code: 7, args: ['fn', 'unique'], data: true },
  JOB_CREATED: { code: 8, args: ['handle'] },
  GRAB_JOB: { code: 9, args: [] },
  NO_JOB: { code: 10, args: [] },
  JOB_ASSIGN: { code: 11, args: ['handle', 'fn'], data: true },
  WORK_STATUS: { code: 12, args: ['handle', 'numerator', 'denominator'] },
  WORK_COMPLETE: { code: 13, args: ['handle'], data: true },
  /** gearmand 1.1.20 sends a stray trailing NUL after the handle when it converts an exception. */
  WORK_FAIL: { code: 14, args: ['handle'] },
  GET_STATUS: { code: 15, args: ['handle'] },
  ECHO_REQ: { code: 16, args: [], data: true },
  ECHO_RES: { code: 17, args: [], data: true },
  SUBMIT_JOB_BG: { code: 18, args: ['fn', 'unique'], data: true },
  /** `code` is the gearman_return_t name without `GEARMAN_`, e.g. `QUEUE_ERROR`. */
  ERROR: { code: 19, args: ['code', 'text'] },
  STATUS_RES: { code: 20, args: ['handle', 'known', 'running', 'numerator', 'denominator'] },
  SUBMIT_JOB_HIGH: { code: 21, args: ['fn', 'unique'], data: true },
  SET_CLIENT_ID: { code: 22, args: ['id'] },
  /** The timeout is decimal ASCII milliseconds (gearmand >= 1.1.19), not a binary integer. */
  CAN_DO_TIMEOUT: { code: 23, args: ['fn', 'timeout'] },
  /** Not implemented by gearmand: ERROR INVALID_COMMAND. */
  ALL_YOURS: { code: 24, args: [] },
  WORK_EXCEPTION: { code: 25, args: ['handle'], data: true },
  OPTION_REQ: { code: 26, args: ['option'] },
  OPTION_RES: { code: 27, args: ['option'] },
  WORK_DATA: { code: 28, args: ['handle'], data: true },
  WORK_WARNING: { code: 29, args: ['handle'], data: true },
  GRAB_JOB_UNIQ: { code: 30, args: [] },
  JOB_ASSIGN_UNIQ: { code: 31, args: ['handle', 'fn', 'unique'], data: true },
  SUBMIT_JOB_HIGH_BG: { code: 32, args: ['fn', 'unique'], data: true },
  SUBMIT_JOB_LOW: { code: 33, args: ['fn', 'unique'], data: true },
  SUBMIT_JOB_LOW_BG: { code: 34, args: ['fn', 'unique'], data: true },
  /** Not implemented by any gearmand release: ERROR INVALID_COMMAND. */
  SUBMIT_JOB_SCHED: {
    code: 35,
    args: ['fn', 'unique', 'minute', 'hour', 'mday', 'month', 'wday'],
    data: true,
  },
  SUBMIT_JOB_EPOCH: { code: 36, args: ['fn', 'unique', 'epoch'], data: true },
  SUBMIT_REDUCE_JOB: { code: 37, args: ['fn', 'unique', 'reducer', 'aggregator'], data: true },
  SUBMIT_REDUCE_JOB_BACKGROUND: {
    code: 38,
    args: ['fn', 'unique', 'reducer', 'aggregator'],
    data: true,
  },
  GRAB_JOB_ALL: { code: 39, args: [] },
  JOB_ASSIGN_ALL: { code: 40, args: ['handle', 'fn', 'unique', 'reducer'], data: true },
  /** Looked up by unique across all functions; the first match wins. */
  GET_STATUS_UNIQUE: { code: 41, args: ['unique'] },
  STATUS_RES_UNIQUE: {
    code: 42,
    args: ['unique', 'known', 'running', 'numerator', 'denominator', 'clientCount'],
  },
} as const satisfies Record<string, PacketSpec>;

export type PacketType = keyof typeof PACKETS;

type Spec<T extends PacketType> = (typeof PACKETS)[T];
type TextArgs<T extends PacketType> = { readonly [A in Spec<T>['args'][number]]: string };
type DataArg<T extends PacketType> = Spec<T> extends { data: true } ? { readonly data: Buffer } : unknown;
type Flatten<T> = { [K in keyof T]: T[K] };

/** One packet of a given type: its text arguments as strings and its opaque data as a Buffer. */
export type PacketOf<T extends PacketType> = Flatten<{ readonly type: T } & TextArgs<T> & DataArg<T>>;

/** Every Gearman packet, discriminated by `type`. */
export type Packet = { [T in PacketType]: PacketOf<T> }[PacketType];

export interface PacketInfo {
  readonly type: PacketType;
  readonly code: number;
  readonly args: readonly string[];
  readonly data: boolean;
  /** args.length + (data ? 1 : 0): how many NUL-separated fields the body has. */
  readonly fieldCount: number;
}

function buildInfo(): { byCode: (PacketInfo | undefined)[]; byType: Record<PacketType, PacketInfo> } {
  const byCode: (PacketInfo | undefined)[] = [];
  const byType = {} as Record<PacketType, PacketInfo>;
  for (const [type, spec] of Object.entries(PACKETS) as [PacketType, PacketSpec][]) {
    const data = spec.data === true;
    const info: PacketInfo = {
      type,
      code: spec.code,
      args: spec.args,
      data,
      fieldCount: spec.args.length + (data ? 1 : 0),
    };
    byCode[spec.code] = info;
    byType[type] = info;
  }
  return { byCode, byType };
}

const INFO = buildInfo();

/** The table entry for a type code, or undefined for codes gearmand does not know (0, >= 43). */
export function packetInfoByCode(code: number): PacketInfo | undefined {
  return INFO.byCode[code];
}

export function packetInfo(type: PacketType): PacketInfo {
  return INFO.byType[type];
}

/** Packet types a server sends; clients and workers send the rest (WORK_* and ECHO go both ways). */
export const SERVER_ONLY_TYPES: ReadonlySet<PacketType> = new Set<PacketType>([
  'NOOP',
  'JOB_CREATED',
  'NO_JOB',
  'JOB_ASSIGN',
  'ECHO_RES',
  'ERROR',
  'STATUS_RES',
  'OPTION_RES',
  'JOB_ASSIGN_UNIQ',
  'JOB_ASSIGN_ALL',
  'STATUS_RES_UNIQUE',
]);
