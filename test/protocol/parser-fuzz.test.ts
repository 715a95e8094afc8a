/**
 * Seeded random-bytes test for PacketParser. Every input, in any chunking, may only yield packets of
 * known types with well-typed fields, text lines (with allowText), or a ProtocolError; never another
 * exception. The same input must give the same result however it is chunked. Seeds are fixed, and
 * a failure names the seed and the case number, so it reproduces.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.ts';
import { PACKETS, PacketParser, type PacketType } from '../../src/protocol/index.ts';
import { MAX_TEXT_LINE } from '../../src/protocol/limits.ts';
import { PACKET_FIXTURES, ascii, plain } from '../fixtures/packets.ts';
import { Random } from '../helpers/random.ts';

const MAX_PACKET_SIZE = 4096;
const CASES_PER_SEED = 2500;
const SEEDS = [1, 42, 0xc0ffee, 20221119];

const TEXT_LINES = ['status\n', 'workers\r\n', 'version\n', '\n', 'maxqueue reverse 10\r\n'].map(ascii);

/** 1..6 valid frames (and, with text, admin lines), concatenated. */
function validStream(r: Random, text: boolean): number[] {
  const out: number[] = [];
  const count = 1 + r.int(6);
  for (let i = 0; i < count; i++) {
    if (text && r.int(3) === 0) out.push(...r.pick(TEXT_LINES));
    else out.push(...r.pick(PACKET_FIXTURES).bytes);
  }
  return out;
}

/** A header with a valid magic, a type near the valid range and a size up to past the cap. */
function randomHeader(r: Random): number[] {
  const h = Buffer.alloc(12);
  h.write(r.int(2) === 0 ? '\0REQ' : '\0RES', 0, 'latin1');
  h.writeUInt32BE(r.int(10) === 0 ? r.pick([0, 43, 44, 0xffffffff]) : 1 + r.int(42), 4);
  h.writeUInt32BE(r.int(10) === 0 ? r.int(2 ** 32) : r.int(MAX_PACKET_SIZE + 64), 8);
  return [...h];
}

function mutate(r: Random, input: number[]): number[] {
  const out = input.slice();
  const rounds = 1 + r.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = r.int(out.length + 1);
    switch (r.int(7)) {
      case 0: // flip one bit
        if (at < out.length) out[at] = (out[at] as number) ^ (1 << r.int(8));
        break;
      case 1: // truncate
        out.length = at;
        break;
      case 2: // insert random bytes
        out.splice(at, 0, ...r.bytes(1 + r.int(8)));
        break;
      case 3: // delete a range
        out.splice(at, 1 + r.int(8));
        break;
      case 4: {
        // overwrite 4 bytes with a random big-endian size (often small, sometimes huge)
        const size = r.int(4) === 0 ? r.int(2 ** 32) : r.int(MAX_PACKET_SIZE * 2);
        out.splice(at, 4, size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff);
        break;
      }
      case 5: // insert a random header, possibly without its body
        out.splice(at, 0, ...randomHeader(r));
        break;
      default: // insert NULs (argument separators where they should not be)
        out.splice(at, 0, ...new Array<number>(1 + r.int(4)).fill(0));
        break;
    }
  }
  return out;
}

function makeInput(r: Random, text: boolean): number[] {
  switch (r.int(5)) {
    case 0:
      return r.bytes(r.int(200));
    case 1: {
      const body = r.bytes(r.int(300));
      for (let i = 0; i < body.length; i++) if (r.int(4) === 0) body[i] = 0;
      return [...randomHeader(r), ...body];
    }
    case 2:
      return validStream(r, text);
    default:
      return mutate(r, validStream(r, text));
  }
}

/** Random chunking, empty chunks included. */
function chunk(r: Random, input: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let pos = 0;
  // At most input.length + 8 chunks: the loop is bounded however the PRNG falls.
  for (let n = 0; n < input.length + 8 && pos < input.length; n++) {
    const take = r.int(4) === 0 ? 0 : 1 + r.int(r.int(2) === 0 ? 16 : input.length);
    chunks.push(input.subarray(pos, Math.min(input.length, pos + take)));
    pos += take;
  }
  if (pos < input.length) chunks.push(input.subarray(pos));
  return chunks;
}

interface Outcome {
  events: string[];
  /** The ProtocolError's message, with the received-bytes tail of a bad magic normalized. */
  error: string | undefined;
  /** Problems: anything that is neither a valid packet/line nor a ProtocolError. */
  problems: string[];
}

const KNOWN_TYPES = new Set(Object.keys(PACKETS));

function checkPacket(packet: unknown, magic: unknown, problems: string[]): string {
  const p = packet as Record<string, unknown>;
  const type = p['type'];
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    problems.push(`packet of unknown type ${String(type)}`);
    return 'bad';
  }
  if (magic !== 'REQ' && magic !== 'RES') problems.push(`magic ${String(magic)}`);
  const spec = PACKETS[type as PacketType] as { args: readonly string[]; data?: true };
  const keys = ['type', ...spec.args, ...(spec.data ? ['data'] : [])];
  if (Object.keys(p).sort().join() !== keys.slice().sort().join()) {
    problems.push(`${type} has fields ${Object.keys(p).join()}, expected ${keys.join()}`);
  }
  for (const arg of spec.args) {
    if (typeof p[arg] !== 'string') problems.push(`${type}.${arg} is ${typeof p[arg]}`);
  }
  if (spec.data) {
    const data = p['data'];
    if (!Buffer.isBuffer(data)) problems.push(`${type}.data is not a Buffer`);
    else if (data.length > MAX_PACKET_SIZE) problems.push(`${type}.data has ${data.length} bytes`);
  }
  return `${String(magic)} ${JSON.stringify(plain(p))}`;
}

function run(chunks: Buffer[], allowText: boolean): Outcome {
  const events: string[] = [];
  const problems: string[] = [];
  const parser = new PacketParser({
    onPacket: (packet, magic) => events.push(checkPacket(packet, magic, problems)),
    onText: (line) => {
      if (!allowText) problems.push('onText called without allowText');
      if (line.includes('\n')) problems.push(`text line holds a newline: ${JSON.stringify(line)}`);
      if (Buffer.byteLength(line) > MAX_TEXT_LINE) problems.push('text line over the maximum');
      events.push(`text ${JSON.stringify(line)}`);
    },
    allowText,
    maxPacketSize: MAX_PACKET_SIZE,
  });
  let error: string | undefined;
  for (const c of chunks) {
    try {
      parser.push(c);
    } catch (e) {
      if (!(e instanceof ProtocolError)) {
        problems.push(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        break;
      }
      error = e.message.replace(/received [0-9a-f ]+$/, 'received …');
      let again: unknown;
      try {
        parser.push(Buffer.from([0]));
      } catch (e2) {
        again = e2;
      }
      if (again !== e) problems.push('a push after the error did not rethrow the same error');
      break;
    }
  }
  return { events, error, problems };
}

describe('PacketParser: seeded random bytes', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: only packets, lines or a ProtocolError, the same for any chunking`, () => {
      const r = new Random(seed);
      const failures: string[] = [];
      let done = 0;
      for (let n = 0; n < CASES_PER_SEED; n++) {
        const allowText = r.int(2) === 0;
        const kind = r.int(5);
        const input = Buffer.from(kind === 0 ? validStream(r, allowText) : makeInput(r, allowText));
        const whole = run([input], allowText);
        const chunked = run(chunk(r, input), allowText);
        const bytewise = n % 10 === 0 ? run([...input].map((byte) => Buffer.from([byte])), allowText) : chunked;
        const where = `seed ${seed} case ${n} (${input.toString('hex').slice(0, 80)})`;
        for (const outcome of [whole, chunked, bytewise]) {
          for (const problem of outcome.problems) failures.push(`${where}: ${problem}`);
        }
        for (const other of [chunked, bytewise]) {
          if (JSON.stringify(other.events) !== JSON.stringify(whole.events) || other.error !== whole.error) {
            let i = 0;
            while (i < whole.events.length && whole.events[i] === other.events[i]) i++;
            const summary = (o: Outcome): string =>
              `${o.events.length} events, error ${o.error ?? 'none'}, event ${i}: ${o.events[i] ?? '-'}`;
            failures.push(`${where}: chunking changed the result: ${summary(whole)} vs ${summary(other)}`);
          }
        }
        if (kind === 0 && (whole.error !== undefined || whole.events.length === 0)) {
          failures.push(`${where}: a valid stream gave ${whole.error ?? 'no events'}`);
        }
        if (failures.length > 20) break;
        done++;
      }
      expect(failures).toEqual([]);
      expect(done).toBe(CASES_PER_SEED); // the whole run finished
    });
  }

  it('the generators reach the interesting paths (so the test can fail)', () => {
    const r = new Random(7);
    const seen = { packets: 0, text: 0, errors: new Set<string>() };
    for (let n = 0; n < 2000; n++) {
      const allowText = r.int(2) === 0;
      const outcome = run([Buffer.from(makeInput(r, allowText))], allowText);
      seen.packets += outcome.events.filter((e) => !e.startsWith('text')).length;
      seen.text += outcome.events.filter((e) => e.startsWith('text')).length;
      if (outcome.error) seen.errors.add(outcome.error.replace(/[0-9]+/g, 'N').slice(0, 25));
    }
    expect(seen.packets).toBeGreaterThan(1000);
    expect(seen.text).toBeGreaterThan(100);
    const kinds = [...seen.errors].join('\n');
    expect(kinds).toMatch(/Bad packet magic/);
    expect(kinds).toMatch(/Unknown packet type/);
    expect(kinds).toMatch(/declares/);
    expect(kinds).toMatch(/expects N arguments/);
  });
});
