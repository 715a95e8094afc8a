import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.ts';
import {
  PacketParser,
  decodeBody,
  packetInfo,
  type Magic,
  type Packet,
} from '../../src/protocol/index.ts';
import { MAX_TEXT_LINE } from '../../src/protocol/limits.ts';
import { PACKET_FIXTURES, ascii, fixture, packetHeader, plain, type PacketFixture } from '../fixtures/packets.ts';

type Event =
  | { kind: 'packet'; magic: Magic; packet: Record<string, unknown> }
  | { kind: 'text'; line: string };

interface Harness {
  parser: PacketParser;
  events: Event[];
  /** The packets as emitted (Buffers not converted), for view/copy checks. */
  raw: Packet[];
}

function harness(options: { allowText?: boolean; maxPacketSize?: number } = {}): Harness {
  const events: Event[] = [];
  const raw: Packet[] = [];
  const parser = new PacketParser({
    onPacket: (packet, magic) => {
      raw.push(packet);
      events.push({ kind: 'packet', magic, packet: plain(packet) });
    },
    onText: (line) => events.push({ kind: 'text', line }),
    ...options,
  });
  return { parser, events, raw };
}

function expected(f: PacketFixture): Event {
  return { kind: 'packet', magic: f.magic, packet: plain(f.packet) };
}

/** A chunk in its own memory (not a view of a shared pool slab). */
function own(bytes: ArrayLike<number>): Buffer {
  const chunk = Buffer.alloc(bytes.length);
  chunk.set(Array.from(bytes));
  return chunk;
}

function header(magic: Magic, type: number, size: number): number[] {
  return [...packetHeader(type, size, magic)];
}

/** Pushes the chunks and returns the ProtocolError the parser throws (fails if it throws none). */
function protocolErrorOf(parser: PacketParser, chunks: Buffer[]): ProtocolError {
  for (const chunk of chunks) {
    try {
      parser.push(chunk);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('GMR_ERR_PROTOCOL');
      return error as ProtocolError;
    }
  }
  throw new Error('expected a ProtocolError, the parser accepted every chunk');
}

const ALL = Buffer.from(PACKET_FIXTURES.flatMap((f) => f.bytes));
const ALL_EVENTS = PACKET_FIXTURES.map(expected);

describe('PacketParser: fixtures', () => {
  for (const f of PACKET_FIXTURES) {
    describe(f.name, () => {
      const bytes = Buffer.from(f.bytes);

      it('parses in one chunk', () => {
        const { parser, events } = harness();
        parser.push(bytes);
        expect(events).toEqual([expected(f)]);
        expect(parser.idle).toBe(true);
      });

      it('parses split in two at every byte offset', () => {
        for (let at = 0; at <= bytes.length; at++) {
          const { parser, events } = harness();
          parser.push(own(bytes.subarray(0, at)));
          if (at < bytes.length) {
            expect(events, `split at ${at}`).toEqual([]);
            expect(parser.idle, `split at ${at}`).toBe(at === 0);
          }
          parser.push(own(bytes.subarray(at)));
          expect(events, `split at ${at}`).toEqual([expected(f)]);
          expect(parser.idle).toBe(true);
        }
      });

      it('parses fed one byte at a time', () => {
        const { parser, events } = harness();
        for (let i = 0; i < bytes.length; i++) {
          expect(events, `before byte ${i}`).toEqual([]);
          parser.push(own([bytes[i] as number]));
        }
        expect(events).toEqual([expected(f)]);
        expect(parser.idle).toBe(true);
      });
    });
  }
});

describe('PacketParser: streams', () => {
  it('parses every fixture concatenated in one chunk, in order', () => {
    const { parser, events } = harness();
    parser.push(ALL);
    expect(events).toEqual(ALL_EVENTS);
  });

  it('parses the concatenation split in two at every byte offset', () => {
    for (let at = 0; at <= ALL.length; at++) {
      const { parser, events } = harness();
      parser.push(own(ALL.subarray(0, at)));
      parser.push(own(ALL.subarray(at)));
      expect(events, `split at ${at}`).toEqual(ALL_EVENTS);
      expect(parser.idle).toBe(true);
    }
  });

  it('parses the concatenation fed one byte at a time', () => {
    const { parser, events } = harness();
    for (const byte of ALL) parser.push(own([byte]));
    expect(events).toEqual(ALL_EVENTS);
  });

  it('skips the body of a zero-argument packet that has one and stays in sync', () => {
    // NOOP declaring 3 bytes of data it has no argument for, then ECHO_RES("ping").
    const noop = [...header('RES', 6, 3), ...ascii('abc')];
    const echo = fixture('ECHO_RES');
    const stream = Buffer.from([...noop, ...echo.bytes]);
    for (let at = 0; at <= stream.length; at++) {
      const { parser, events } = harness();
      parser.push(own(stream.subarray(0, at)));
      parser.push(own(stream.subarray(at)));
      expect(events, `split at ${at}`).toEqual([
        { kind: 'packet', magic: 'RES', packet: { type: 'NOOP' } },
        expected(echo),
      ]);
    }
  });

  it('reports each frame with its own magic', () => {
    const { parser, events } = harness();
    parser.push(Buffer.from([...fixture('WORK_COMPLETE (REQ)').bytes, ...fixture('WORK_COMPLETE (RES)').bytes]));
    expect(events.map((e) => (e.kind === 'packet' ? e.magic : e.kind))).toEqual(['REQ', 'RES']);
  });
});

describe('PacketParser: admin text lines', () => {
  const echo = fixture('ECHO_REQ');
  const submit = fixture('SUBMIT_JOB with NULs in the payload');
  const stream = Buffer.from([
    ...ascii('status\n'),
    ...echo.bytes,
    ...ascii('workers\r\n'),
    ...ascii('maxqueue reverse 10\n'),
    ...submit.bytes,
    ...echo.bytes,
    ...ascii('version\r\n'),
    ...ascii('\n'),
  ]);
  const streamEvents: Event[] = [
    { kind: 'text', line: 'status' },
    expected(echo),
    { kind: 'text', line: 'workers' },
    { kind: 'text', line: 'maxqueue reverse 10' },
    expected(submit),
    expected(echo),
    { kind: 'text', line: 'version' },
    { kind: 'text', line: '' },
  ];

  it('mixes text lines (\\n and \\r\\n) with binary packets on one stream', () => {
    const { parser, events } = harness({ allowText: true });
    parser.push(stream);
    expect(events).toEqual(streamEvents);
    expect(parser.idle).toBe(true);
  });

  it('gives the same events split at every byte offset and one byte at a time', () => {
    for (let at = 0; at <= stream.length; at++) {
      const { parser, events } = harness({ allowText: true });
      parser.push(own(stream.subarray(0, at)));
      parser.push(own(stream.subarray(at)));
      expect(events, `split at ${at}`).toEqual(streamEvents);
    }
    const { parser, events } = harness({ allowText: true });
    for (const byte of stream) parser.push(own([byte]));
    expect(events).toEqual(streamEvents);
  });

  it('joins a line split across chunks (and \\r\\n split between \\r and \\n), copying the early parts', () => {
    const { parser, events } = harness({ allowText: true });
    const parts = [own(ascii('sta')), own(ascii('tus\r')), own([0x0a])];
    for (const part of parts) {
      parser.push(part);
      expect(parser.idle).toBe(events.length > 0);
      part.fill(0x58); // the owner reuses its buffer: the parser must have copied
    }
    expect(events).toEqual([{ kind: 'text', line: 'status' }]);
    expect(parser.idle).toBe(true);
  });

  it('accepts a line of exactly the maximum length', () => {
    const { parser, events } = harness({ allowText: true });
    parser.push(Buffer.from(`${'a'.repeat(MAX_TEXT_LINE)}\n`));
    expect(events).toEqual([{ kind: 'text', line: 'a'.repeat(MAX_TEXT_LINE) }]);
  });

  it('requires an onText callback with allowText', () => {
    expect(() => new PacketParser({ onPacket: () => {}, allowText: true })).toThrow(TypeError);
  });
});

describe('PacketParser: views and copies', () => {
  it('decodes frames inside one chunk as views of the chunk', () => {
    const submit = fixture('SUBMIT_JOB (PROTOCOL example)');
    const noop = fixture('NOOP');
    const chunk = own([...noop.bytes, ...submit.bytes, ...noop.bytes]);
    const { parser, raw } = harness();
    parser.push(chunk);
    const packet = raw[1];
    if (packet?.type !== 'SUBMIT_JOB') throw new Error(`expected SUBMIT_JOB, got ${packet?.type}`);
    expect(packet.data.buffer).toBe(chunk.buffer);
    // "test" starts after NOOP (12), the header (12), "reverse\0" (8) and "\0" (1).
    expect(packet.data.byteOffset).toBe(chunk.byteOffset + 12 + 12 + 8 + 1);
    chunk.write('TEST', 33, 'latin1');
    expect(packet.data.toString('latin1')).toBe('TEST'); // a view, not a copy
  });

  for (const name of [
    'SUBMIT_JOB (PROTOCOL example)',
    'JOB_ASSIGN_ALL with NULs in the payload',
    'JOB_ASSIGN with all 256 byte values',
    'STATUS_RES_UNIQUE',
  ]) {
    it(`copies a frame that spans chunks: ${name}, split at every offset, chunks overwritten`, () => {
      const f = fixture(name);
      const bytes = Buffer.from(f.bytes);
      for (let at = 1; at < bytes.length; at++) {
        const { parser, events, raw } = harness();
        const first = own(bytes.subarray(0, at));
        const second = own(bytes.subarray(at));
        parser.push(first);
        first.fill(0xee);
        parser.push(second);
        second.fill(0xee);
        expect(events, `split at ${at}`).toEqual([expected(f)]);
        expect(raw.map(plain), `split at ${at}, after overwriting`).toEqual([plain(f.packet)]);
        const data = (raw[0] as { data?: Buffer }).data;
        if (data) {
          expect(data.buffer).not.toBe(first.buffer);
          expect(data.buffer).not.toBe(second.buffer);
        }
      }
    });
  }
});

describe('PacketParser: errors', () => {
  it('bad magic: names both expected magics and the bytes received', () => {
    const { parser } = harness();
    const error = protocolErrorOf(parser, [Buffer.from([0x00, 0x52, 0x45, 0x58, 0, 0, 0, 1, 0, 0, 0, 0])]);
    expect(error.message).toMatch(/00 52 45 51/);
    expect(error.message).toMatch(/00 52 45 53/);
    expect(error.message).toMatch(/received 00 52 45 58/);
  });

  it('bad magic split across chunks is still caught once the header is complete', () => {
    const { parser, events } = harness();
    const bytes = [0x00, 0x51, 0x45, 0x51, 0, 0, 0, 1, 0, 0, 0, 0];
    const error = protocolErrorOf(parser, bytes.map((byte) => own([byte])));
    expect(error.message).toMatch(/received 00 51 45 51/);
    expect(events).toEqual([]);
  });

  it('text is not allowed without allowText: a line is a bad magic', () => {
    const { parser } = harness();
    const error = protocolErrorOf(parser, [Buffer.from('GET / HTTP/1.1\r\n')]);
    expect(error.message).toMatch(/expected 00 52 45 51/);
    expect(error.message).toMatch(/received 47 45 54 20/);
  });

  it('text is not allowed without allowText: caught on the first byte, even a short tail', () => {
    const { parser } = harness();
    const error = protocolErrorOf(parser, [Buffer.from(fixture('NOOP').bytes.concat(ascii('st')))]);
    expect(error.message).toMatch(/received 73 74$/);
  });

  for (const code of [0, 43, 0xffffffff]) {
    it(`unknown packet type ${code}, caught from the header alone`, () => {
      const { parser } = harness();
      const error = protocolErrorOf(parser, [Buffer.from(header('REQ', code, 5))]);
      expect(error.message).toContain(`Unknown packet type ${code}`);
      expect(error.message).toMatch(/expected a type between 1 and 42/);
    });
  }

  it('a declared size above maxPacketSize is refused from the header, before any data', () => {
    const { parser } = harness({ maxPacketSize: 4096 });
    const error = protocolErrorOf(parser, [Buffer.from(header('RES', 13, 4097))]);
    expect(error.message).toMatch(/WORK_COMPLETE/);
    expect(error.message).toMatch(/4097/);
    expect(error.message).toMatch(/maximum of 4096/);
  });

  it('a declared size above maxPacketSize is refused when the header spans chunks', () => {
    const { parser } = harness({ maxPacketSize: 100 });
    const bytes = header('REQ', 16, 0x01000000);
    const error = protocolErrorOf(parser, [own(bytes.slice(0, 7)), own(bytes.slice(7))]);
    expect(error.message).toMatch(/ECHO_REQ packet declares 16777216 bytes/);
  });

  it('a declared size equal to maxPacketSize is accepted', () => {
    const { parser, raw } = harness({ maxPacketSize: 4096 });
    parser.push(Buffer.from([...header('REQ', 16, 4096), ...new Array<number>(4096).fill(0x61)]));
    expect(raw).toHaveLength(1);
    expect((raw[0] as { data: Buffer }).data.length).toBe(4096);
  });

  it('too few arguments: SUBMIT_JOB with one NUL', () => {
    const { parser } = harness();
    // "reverse\0test": 7 + 1 + 4 = 12
    const error = protocolErrorOf(parser, [
      Buffer.from([...header('REQ', 7, 12), ...ascii('reverse'), 0, ...ascii('test')]),
    ]);
    expect(error.message).toMatch(/SUBMIT_JOB expects 3 arguments separated by NUL bytes, received 2/);
  });

  it("too few arguments: SUBMIT_REDUCE_JOB in PROTOCOL's 3-argument form", () => {
    const { parser } = harness();
    // "mapper\0u\0reducer\0data": 6+1 + 1+1 + 7+1 + 4 = 21
    const error = protocolErrorOf(parser, [
      Buffer.from([
        ...header('REQ', 37, 21),
        ...ascii('mapper'), 0, ...ascii('u'), 0, ...ascii('reducer'), 0, ...ascii('data'),
      ]),
    ]);
    expect(error.message).toMatch(/SUBMIT_REDUCE_JOB expects 5 arguments .* received 4/);
  });

  it('too few arguments: STATUS_RES_UNIQUE with 5 of its 6', () => {
    const { parser } = harness();
    // "u\0001\0001\0003\00010": 1+1 + 1+1 + 1+1 + 1+1 + 2 = 10
    const error = protocolErrorOf(parser, [
      Buffer.from([
        ...header('RES', 42, 10),
        ...ascii('u'), 0, ...ascii('1'), 0, ...ascii('1'), 0, ...ascii('3'), 0, ...ascii('10'),
      ]),
    ]);
    expect(error.message).toMatch(/STATUS_RES_UNIQUE expects 6 arguments .* received 5/);
  });

  it('an overlong text line, in one chunk and in many', () => {
    const long = Buffer.alloc(MAX_TEXT_LINE + 1, 0x61);
    const one = harness({ allowText: true });
    expect(protocolErrorOf(one.parser, [long]).message).toMatch(
      new RegExp(`longer than ${MAX_TEXT_LINE} bytes without a newline`),
    );
    const many = harness({ allowText: true });
    const chunks: Buffer[] = [];
    for (let i = 0; i < long.length; i += 1000) chunks.push(long.subarray(i, i + 1000));
    expect(protocolErrorOf(many.parser, chunks).message).toMatch(/expected a command ending in \\n/);
    expect(many.events).toEqual([]);
  });

  it('an overlong line that does end in a newline is refused too', () => {
    const { parser, events } = harness({ allowText: true });
    protocolErrorOf(parser, [Buffer.from(`${'a'.repeat(MAX_TEXT_LINE + 1)}\n`)]);
    expect(events).toEqual([]);
  });

  it('delivers the packets before the error, then rethrows the same error on every push', () => {
    const { parser, events } = harness();
    const noop = fixture('NOOP');
    const error = protocolErrorOf(parser, [Buffer.from([...noop.bytes, ...header('REQ', 43, 0)])]);
    expect(events).toEqual([expected(noop)]);
    for (const next of [Buffer.from(noop.bytes), Buffer.alloc(0), Buffer.from('x')]) {
      let again: unknown;
      try {
        parser.push(next);
      } catch (e) {
        again = e;
      }
      expect(again).toBe(error);
    }
    expect(events).toHaveLength(1);
  });
});

describe('decodeBody: argument splitting is bounded by size', () => {
  it('does not take NULs that lie beyond the body', () => {
    // "reverse" then, outside the body, "\0\0test": a parser searching past size would find them.
    const parent = Buffer.from([...ascii('reverse'), 0, 0, ...ascii('test')]);
    const body = parent.subarray(0, 7);
    expect(() => decodeBody(packetInfo('SUBMIT_JOB'), body)).toThrow(ProtocolError);
  });

  it('ends the last argument at the end of the body', () => {
    const parent = Buffer.from([...ascii('H:1'), 0, ...ascii('result'), 0, ...ascii('next')]);
    const packet = decodeBody(packetInfo('WORK_COMPLETE'), parent.subarray(0, 10));
    expect(plain(packet)).toEqual({ type: 'WORK_COMPLETE', handle: 'H:1', data: { buffer: '726573756c74' } });
    const text = decodeBody(packetInfo('WORK_FAIL'), parent.subarray(0, 3));
    expect(text).toEqual({ type: 'WORK_FAIL', handle: 'H:1' });
  });

  it('keeps NULs inside a trailing text argument (gearmand WORK_FAIL)', () => {
    const packet = decodeBody(packetInfo('WORK_FAIL'), Buffer.from([...ascii('H:x:1'), 0]));
    expect(packet).toEqual({ type: 'WORK_FAIL', handle: 'H:x:1\0' });
  });

  it('a packet with too few NULs does not steal them from the next packet on the stream', () => {
    // SUBMIT_JOB declaring 7 bytes "reverse" (no NUL), then WORK_COMPLETE("H:lap:1", 00 00 00).
    const next = fixture('WORK_COMPLETE with an all-NUL result');
    const stream = Buffer.from([...header('REQ', 7, 7), ...ascii('reverse'), ...next.bytes]);
    for (let at = 0; at <= stream.length; at++) {
      const { parser, events } = harness();
      const error = protocolErrorOf(parser, [own(stream.subarray(0, at)), own(stream.subarray(at))]);
      expect(error.message, `split at ${at}`).toMatch(/SUBMIT_JOB expects 3 arguments .* received 1 in 7 bytes/);
      expect(events).toEqual([]);
    }
  });
});

describe('decodeBody: short forms real peers send (Perl Gearman::Worker 2.004)', () => {
  it("reads a handle-only WORK_COMPLETE, WORK_DATA, WORK_WARNING and WORK_EXCEPTION as an empty payload", () => {
    for (const type of ['WORK_COMPLETE', 'WORK_DATA', 'WORK_WARNING', 'WORK_EXCEPTION'] as const) {
      // "H:vm:1": 6 bytes, no NUL: Perl's `$v ? join("\0", $handle, $v) : $handle` for '' or '0'.
      const packet = decodeBody(packetInfo(type), Buffer.from(ascii('H:vm:1')));
      expect(plain(packet)).toEqual({ type, handle: 'H:vm:1', data: { buffer: '' } });
    }
  });

  it('reads WORK_STATUS without its denominator, or without both counts, as 0', () => {
    expect(decodeBody(packetInfo('WORK_STATUS'), Buffer.from([...ascii('H:1'), 0, ...ascii('7')]))).toEqual({
      type: 'WORK_STATUS',
      handle: 'H:1',
      numerator: '7',
      denominator: '0',
    });
    expect(decodeBody(packetInfo('WORK_STATUS'), Buffer.from(ascii('H:1')))).toEqual({
      type: 'WORK_STATUS',
      handle: 'H:1',
      numerator: '0',
      denominator: '0',
    });
  });

  it('still refuses a SUBMIT_JOB without its unique or payload separator (gearmand does too)', () => {
    expect(() => decodeBody(packetInfo('SUBMIT_JOB'), Buffer.from([...ascii('f'), 0, ...ascii('u')]))).toThrow(ProtocolError);
    expect(() => decodeBody(packetInfo('SUBMIT_JOB'), Buffer.from(ascii('f')))).toThrow(ProtocolError);
  });
});
