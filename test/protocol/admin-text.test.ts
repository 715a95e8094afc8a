/**
 * Admin line parsers on fixture text copied from the gearmand 1.1.20 reference (§2, outputs
 * verified there against gearmand), not produced by our code.
 */
import { describe, expect, it } from 'vitest';
import {
  parseErrLine,
  parseOkLine,
  parsePriorityStatusLines,
  parseShowJobsLines,
  parseShowUniqueJobsLines,
  parseStatusLines,
  parseWorkersLines,
} from 'gmr/protocol';
import { ProtocolError, ServerError } from '../../src/errors.ts';

describe('status', () => {
  it('parses FUNC\\tTOTAL\\tRUNNING\\tWORKERS lines', () => {
    // Reference: "2 running, 0 queued gives `s1\t2\t2\t1`"; functions once seen stay at 0 0 0.
    expect(parseStatusLines(['s1\t2\t2\t1', 'idle\t0\t0\t0'])).toEqual([
      { function: 's1', total: 2, running: 2, workers: 1 },
      { function: 'idle', total: 0, running: 0, workers: 0 },
    ]);
    expect(parseStatusLines([])).toEqual([]);
  });

  it('rejects a line with the wrong shape, naming what it expected', () => {
    expect(() => parseStatusLines(['s1 2 2 1'])).toThrow(ProtocolError);
    expect(() => parseStatusLines(['s1\t2\tx\t1'])).toThrow('Bad admin line "s1\\t2\\tx\\t1": expected an integer RUNNING, received "x"');
  });
});

describe('workers', () => {
  it('parses FD IP CLIENT_ID :[ fn]* with duplicates and the unset id "-"', () => {
    // Reference examples: `39 127.0.0.1 worker-1 : rev other rev` and `41 127.0.0.1 - :`.
    expect(parseWorkersLines(['39 127.0.0.1 worker-1 : rev other rev', '41 127.0.0.1 - :'])).toEqual([
      { fd: 39, ip: '127.0.0.1', clientId: 'worker-1', functions: ['rev', 'other', 'rev'] },
      { fd: 41, ip: '127.0.0.1', clientId: '-', functions: [] },
    ]);
  });

  it('keeps IPv6 addresses whole', () => {
    expect(parseWorkersLines(['7 ::1 - : f'])).toEqual([{ fd: 7, ip: '::1', clientId: '-', functions: ['f'] }]);
  });

  it('rejects a line without the " :" separator', () => {
    expect(() => parseWorkersLines(['39 127.0.0.1 worker-1'])).toThrow(ProtocolError);
  });
});

describe('prioritystatus, show jobs, show unique jobs', () => {
  it('parses FUNC\\tHIGH\\tNORMAL\\tLOW\\tWORKERS', () => {
    expect(parsePriorityStatusLines(['rev\t1\t0\t2\t3'])).toEqual([
      { function: 'rev', high: 1, normal: 0, low: 2, workers: 3 },
    ]);
  });

  it('parses HANDLE\\tRETRIES\\tIGNORE\\tQUEUED', () => {
    expect(parseShowJobsLines(['H:vm:1\t0\t0\t1', 'H:vm:2\t3\t1\t0'])).toEqual([
      { handle: 'H:vm:1', retries: 0, ignore: false, queued: true },
      { handle: 'H:vm:2', retries: 3, ignore: true, queued: false },
    ]);
    expect(() => parseShowJobsLines(['H:vm:1\t0\t2\t1'])).toThrow('expected IGNORE 0 or 1, received "2"');
  });

  it('keeps the empty line of a job without unique', () => {
    expect(parseShowUniqueJobsLines(['key-1', '', 'key-2'])).toEqual(['key-1', '', 'key-2']);
  });
});

describe('OK and ERR lines', () => {
  it('reads query values and bare OKs', () => {
    expect(parseOkLine('OK 1.1.20+ds')).toBe('1.1.20+ds'); // `version`: the + is not decoded
    expect(parseOkLine('OK 4661')).toBe('4661'); // `getpid`
    expect(parseOkLine('OK')).toBe(''); // mutations send OK\r\n; the \r is gone by now
  });

  it('turns ERR <CODE> <text> into a ServerError with the +-decoded text', () => {
    const error = parseErrLine('ERR UNKNOWN_COMMAND Unknown+server+commandfoo');
    expect(error).toBeInstanceOf(ServerError);
    expect(error?.serverCode).toBe('UNKNOWN_COMMAND');
    expect(error?.message).toBe('Job server error UNKNOWN_COMMAND: Unknown server commandfoo');
    expect(parseErrLine('ERR UNKNOWN_JOB')?.serverCode).toBe('UNKNOWN_JOB');
    expect(() => parseOkLine('ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue')).toThrow(
      'Job server error INVALID_ARGUMENTS: An incomplete set of arguments was sent to this command maxqueue',
    );
    expect(parseErrLine('OK')).toBeUndefined();
    expect(() => parseOkLine('.')).toThrow(ProtocolError);
  });
});
