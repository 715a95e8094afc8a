/**
 * gearmand's admin text protocol on the job port (reference §2). A line is split on runs of spaces
 * (a leading space makes an empty command, as in gearmand) and the words are case-insensitive.
 * Note gearmand's line endings, kept byte for byte: query answers end in `\n`, mutations answer
 * `OK\r\n`, errors are `ERR CODE text\r\n`.
 *
 * Beyond 1.1.20: `shutdown [graceful]` (removed from gearmand in 1.1.15; older servers and the Perl
 * server have it), answered only when the server was started with `allowShutdown` (anyone who can
 * connect could otherwise stop it), and `create function` keeps the whole name (1.1.20 drops its last character).
 */
import {
  formatJobs,
  formatPriorityStatus,
  formatStatus,
  formatUniqueJobs,
  formatWorkers,
  type FunctionStatus,
  type JobInfo,
  type PriorityStatus,
  type WorkerInfo,
} from '../protocol/admin-text.ts';

/** What `version` answers: the protocol level we match, marked as ours. */
export const SERVER_VERSION = '1.1.20+gmr';

/** What the admin commands may see and change of the job model, and nothing more. */
export interface AdminBroker {
  functionStatus(): Iterable<FunctionStatus>;
  priorityStatus(): Iterable<PriorityStatus>;
  /** Every open session, clients and admin sessions included. */
  workers(): Iterable<WorkerInfo>;
  jobs(): Iterable<JobInfo>;
  uniques(): Iterable<string>;
  /** False when no such job is live (or it was already cancelled). */
  cancel(handle: string): boolean;
  /** Per priority (HIGH, NORMAL, LOW), 0 unlimited; a function that does not exist is left alone. */
  setMaxQueue(name: string, limits: [number, number, number]): void;
  /** Undefined when created (or it existed); else why the name is refused. */
  createFunction(name: string): string | undefined;
  /** `busy`: workers registered, or jobs queued or running. */
  dropFunction(name: string): 'dropped' | 'unknown' | 'busy';
}

export interface AdminContext {
  readonly broker: AdminBroker;
  /** `verbose` answers INFO when the server logs, ERROR (gearmand's default level) otherwise. */
  readonly verbose: boolean;
  /** False: `shutdown` is refused with ERR SHUTDOWN_DISABLED. */
  readonly allowShutdown: boolean;
  /** Called after the `OK` reply is queued. */
  shutdown(graceful: boolean): void;
}

const OK = 'OK\r\n';
const SHUTDOWN_DISABLED = 'ERR SHUTDOWN_DISABLED shutdown+is+not+allowed+on+this+server+(start+it+with+allowShutdown+or+gmr+server+--allow-shutdown)\r\n';

function unknownCommand(word: string): string {
  return `ERR UNKNOWN_COMMAND Unknown+server+command${word}\r\n`;
}

function incomplete(command: string): string {
  return `ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+${command}\r\n`;
}

/** C's atoi: leading digits, else 0. */
function atoi(text: string | undefined): number {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

/** `maxqueue FN [N | H N L]`: one number applies to all priorities; 0 or less is unlimited. */
function maxQueue(words: string[], broker: AdminBroker): string {
  const name = words[1];
  if (name === undefined) return incomplete('maxqueue');
  const limits: [number, number, number] = [0, 0, 0];
  for (let priority = 0; priority < 3; priority++) {
    const value = words.length > priority + 2 ? atoi(words[priority + 2]) : 0;
    limits[priority] = value > 0 ? value : 0;
  }
  if (words.length <= 3) limits[1] = limits[2] = limits[0];
  // "The function must already exist, otherwise it is a silent no-op."
  broker.setMaxQueue(name, limits);
  return OK;
}

export function runAdminCommand(line: string, ctx: AdminContext): string {
  const words = line.split(/ +/);
  while (words.length > 1 && words[words.length - 1] === '') words.pop();
  const word = words[0] ?? '';
  const sub = words[1]?.toLowerCase();
  const broker = ctx.broker;
  switch (word.toLowerCase()) {
    case 'status':
      return formatStatus(broker.functionStatus());
    case 'prioritystatus':
      return formatPriorityStatus(broker.priorityStatus());
    case 'workers':
      return formatWorkers(broker.workers());
    case 'show':
      if (sub === undefined) return unknownCommand(word);
      if (sub === 'jobs' && words.length === 2) return formatJobs(broker.jobs());
      if (sub === 'unique' && words[2]?.toLowerCase() === 'jobs' && words.length === 3) return formatUniqueJobs(broker.uniques());
      return 'ERR UNKNOWN_SHOW_ARGUMENTS\r\n';
    case 'cancel': {
      const handle = words[2];
      if (sub !== 'job' || handle === undefined) return unknownCommand(word);
      return broker.cancel(handle) ? OK : 'ERR UNKNOWN_JOB\r\n';
    }
    case 'maxqueue':
      return maxQueue(words, broker);
    case 'create': {
      const name = words[2];
      if (sub !== 'function' || name === undefined) return incomplete(word);
      const problem = broker.createFunction(name);
      return problem === undefined ? OK : `ERR INVALID_FUNCTION_NAME ${problem.replace(/ /g, '+')}\r\n`;
    }
    case 'drop': {
      const name = words[2];
      if (sub !== 'function' || name === undefined) return incomplete(word);
      switch (broker.dropFunction(name)) {
        case 'dropped':
          return OK;
        case 'unknown':
          return 'ERR function not found\r\n';
        case 'busy':
          return 'ERR there are still connected workers or executing clients\r\n';
      }
      break;
    }
    case 'getpid':
      return `OK ${process.pid}\n`;
    case 'verbose':
      return `OK ${ctx.verbose ? 'INFO' : 'ERROR'}\n`;
    case 'version':
      return `OK ${SERVER_VERSION}\n`;
    case 'shutdown': {
      const graceful = sub === 'graceful';
      if (words.length > 2 || (sub !== undefined && !graceful)) return incomplete(word);
      if (!ctx.allowShutdown) return SHUTDOWN_DISABLED;
      ctx.shutdown(graceful);
      return 'OK\n';
    }
  }
  return unknownCommand(word);
}
