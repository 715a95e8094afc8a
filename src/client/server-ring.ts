/**
 * Server choice for a client with several job servers.
 *
 * gearmand coalesces on (function, unique) per server only, so clients that share a server list
 * must send equal unique keys to the same server. We hash exactly as Perl Gearman::Client does
 * (Task.pm `hash`, Taskset.pm `_get_hashed_sock`): `(crc32(uniq) >> 16) & 0x7fff`, modulo the
 * number of servers, over the servers in the order given; the unique `-` means "the payload is the
 * key", so the payload is hashed instead. Perl stops at the hashed server; we fail over to the
 * following ones in ring order, so a dead server moves its keys to one predictable neighbour.
 * Submits without a unique go round-robin.
 */

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib and Perl String::CRC32 compute it) of the bytes. */
export function crc32(input: Buffer | string): number {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Perl Gearman::Task::hash: a 15-bit value from the upper half of the CRC-32. */
export function uniqueHash(key: Buffer | string): number {
  return (crc32(key) >>> 16) & 0x7fff;
}

/** The bytes that decide the server: the payload for unique `-`, else the unique itself. */
export function hashKey(unique: string, payload: Buffer): Buffer | string {
  return unique === '-' ? payload : unique;
}

export class ServerRing {
  readonly size: number;
  #next = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`ServerRing needs at least 1 server, received ${size}`);
    }
    this.size = size;
  }

  /** Index of the server a unique key belongs to. */
  indexFor(key: Buffer | string): number {
    return uniqueHash(key) % this.size;
  }

  /**
   * Server indexes to try, in order: the hashed server then its ring successors when there is a
   * key (non-empty unique), else the next round-robin server then its successors.
   */
  order(key?: Buffer | string): number[] {
    let start: number;
    if (key !== undefined && key.length > 0) start = this.indexFor(key);
    else {
      start = this.#next;
      this.#next = (this.#next + 1) % this.size;
    }
    const result: number[] = [];
    for (let i = 0; i < this.size; i++) result.push((start + i) % this.size);
    return result;
  }
}
