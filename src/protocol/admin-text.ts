/**
 * gearmand's admin text protocol replies (reference §2, gearmand 1.1.20): the row types, how the
 * server formats them (byte for byte) and how a client parses them.
 *
 * - Lists (`status`, `workers`, `prioritystatus`, `show jobs`, `show unique jobs`) are lines ending
 *   in `\n`, closed by a line holding just `.`; the lines given here exclude that `.`.
 * - Single-line answers are `OK <value>\n` (queries) or `OK\r\n` (mutations).
 * - Errors are `ERR <CODE> <text>\r\n`; the text is `+`-encoded (`Unknown+server+commandfoo`).
 * Lines arrive without their `\n` and trailing `\r`.
 */
import { ProtocolError, ServerError } from '../errors.ts';

export interface FunctionStatus {
  function: string;
  /** Queued plus running. */
  total: number;
  running: number;
  /** Registered workers (each CAN_DO counts, duplicates included). */
  workers: number;
}

export interface WorkerInfo {
  fd: number;
  ip: string;
  /** As gearmand prints it: `-` when the connection never sent SET_CLIENT_ID. */
  clientId: string;
  /** Most recently registered first; duplicates are kept. */
  functions: string[];
}

export interface PriorityStatus {
  function: string;
  /** Queued jobs only (running ones are not counted). */
  high: number;
  normal: number;
  low: number;
  workers: number;
}

export interface JobInfo {
  handle: string;
  retries: number;
  /** Cancelled, or abandoned by its foreground clients: dropped at the next grab. */
  ignore: boolean;
  /** Persisted (a background job). */
  queued: boolean;
}

/** A list reply: each row, then the line holding just `.`. */
function list<T>(rows: Iterable<T>, format: (row: T) => string): string {
  let out = '';
  for (const row of rows) out += `${format(row)}\n`;
  return `${out}.\n`;
}

/** `status`: `FUNC\tTOTAL\tRUNNING\tWORKERS`. */
export function formatStatus(rows: Iterable<FunctionStatus>): string {
  return list(rows, (r) => `${r.function}\t${r.total}\t${r.running}\t${r.workers}`);
}

/** `prioritystatus`: `FUNC\tHIGH\tNORMAL\tLOW\tWORKERS`. */
export function formatPriorityStatus(rows: Iterable<PriorityStatus>): string {
  return list(rows, (r) => `${r.function}\t${r.high}\t${r.normal}\t${r.low}\t${r.workers}`);
}

/** `workers`: `FD IP CLIENT_ID :[ fn]*`, functions most recent first. */
export function formatWorkers(rows: Iterable<WorkerInfo>): string {
  return list(rows, (r) => `${r.fd} ${r.ip} ${r.clientId} :${r.functions.map((fn) => ` ${fn}`).join('')}`);
}

/** `show jobs`: `HANDLE\tRETRIES\tIGNORE\tQUEUED`, flags as 0 or 1. */
export function formatJobs(rows: Iterable<JobInfo>): string {
  return list(rows, (r) => `${r.handle}\t${r.retries}\t${r.ignore ? 1 : 0}\t${r.queued ? 1 : 0}`);
}

/** `show unique jobs`: one unique per line, an empty line for a job without one. */
export function formatUniqueJobs(uniques: Iterable<string>): string {
  return list(uniques, (unique) => unique);
}

function count(line: string, field: string | undefined, name: string): number {
  const value = Number(field);
  if (field === undefined || field === '' || !Number.isInteger(value)) {
    throw new ProtocolError(
      `Bad admin line ${JSON.stringify(line)}: expected an integer ${name}, received ${JSON.stringify(field)}`,
    );
  }
  return value;
}

function fields(line: string, expected: number, format: string): string[] {
  const parts = line.split('\t');
  if (parts.length !== expected) {
    throw new ProtocolError(
      `Bad admin line ${JSON.stringify(line)}: expected ${expected} tab-separated fields (${format}), ` +
        `received ${parts.length}`,
    );
  }
  return parts;
}

/** `status`: `FUNC\tTOTAL\tRUNNING\tWORKERS`. */
export function parseStatusLines(lines: readonly string[]): FunctionStatus[] {
  return lines.map((line) => {
    const [fn, total, running, workers] = fields(line, 4, 'FUNC TOTAL RUNNING WORKERS');
    return {
      function: fn as string,
      total: count(line, total, 'TOTAL'),
      running: count(line, running, 'RUNNING'),
      workers: count(line, workers, 'WORKERS'),
    };
  });
}

const WORKER_LINE = /^(\d+) (\S+) (.*?) :(.*)$/;

/** `workers`: `FD IP CLIENT_ID :[ fn]*`, e.g. `39 127.0.0.1 worker-1 : rev other rev`. */
export function parseWorkersLines(lines: readonly string[]): WorkerInfo[] {
  return lines.map((line) => {
    const match = WORKER_LINE.exec(line);
    if (!match) {
      throw new ProtocolError(`Bad admin line ${JSON.stringify(line)}: expected "FD IP CLIENT_ID : functions..."`);
    }
    return {
      fd: Number(match[1]),
      ip: match[2] as string,
      clientId: match[3] as string,
      functions: (match[4] as string).split(' ').filter((fn) => fn.length > 0),
    };
  });
}

/** `prioritystatus`: `FUNC\tHIGH\tNORMAL\tLOW\tWORKERS`. */
export function parsePriorityStatusLines(lines: readonly string[]): PriorityStatus[] {
  return lines.map((line) => {
    const [fn, high, normal, low, workers] = fields(line, 5, 'FUNC HIGH NORMAL LOW WORKERS');
    return {
      function: fn as string,
      high: count(line, high, 'HIGH'),
      normal: count(line, normal, 'NORMAL'),
      low: count(line, low, 'LOW'),
      workers: count(line, workers, 'WORKERS'),
    };
  });
}

function flag(line: string, field: string | undefined, name: string): boolean {
  if (field !== '0' && field !== '1') {
    throw new ProtocolError(
      `Bad admin line ${JSON.stringify(line)}: expected ${name} 0 or 1, received ${JSON.stringify(field)}`,
    );
  }
  return field === '1';
}

/** `show jobs`: `HANDLE\tRETRIES\tIGNORE\tQUEUED`. */
export function parseShowJobsLines(lines: readonly string[]): JobInfo[] {
  return lines.map((line) => {
    const [handle, retries, ignore, queued] = fields(line, 4, 'HANDLE RETRIES IGNORE QUEUED');
    return {
      handle: handle as string,
      retries: count(line, retries, 'RETRIES'),
      ignore: flag(line, ignore, 'IGNORE'),
      queued: flag(line, queued, 'QUEUED'),
    };
  });
}

/** `show unique jobs`: one unique per line; a job without a unique is an empty line. */
export function parseShowUniqueJobsLines(lines: readonly string[]): string[] {
  return [...lines];
}

/** `ERR <CODE> <text>` as a ServerError (text `+`-decoded), or undefined for any other line. */
export function parseErrLine(line: string): ServerError | undefined {
  if (line !== 'ERR' && !line.startsWith('ERR ')) return undefined;
  const rest = line.slice(4);
  const space = rest.indexOf(' ');
  const code = space < 0 ? rest : rest.slice(0, space);
  const text = space < 0 ? '' : rest.slice(space + 1).replace(/\+/g, ' ');
  return new ServerError(code, text);
}

/** `OK` or `OK <value>`: the value ('' for a bare OK); `ERR …` throws a ServerError. */
export function parseOkLine(line: string): string {
  const error = parseErrLine(line);
  if (error) throw error;
  if (line === 'OK') return '';
  if (line.startsWith('OK ')) return line.slice(3);
  throw new ProtocolError(
    `Bad admin reply ${JSON.stringify(line)}: expected "OK", "OK <value>" or "ERR <CODE> <text>"`,
  );
}
