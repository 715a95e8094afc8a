/**
 * One job server as the worker sees it: the Connection, where the grab loop stands on it, and the
 * jobs it has assigned to us.
 *
 * Grab states (reference §3.5, `GRAB_JOB → NO_JOB → PRE_SLEEP → (sleep) → NOOP → GRAB_JOB`):
 * - `idle`: awake; the worker may send GRAB_JOB_UNIQ when it has a free slot.
 * - `draining`: a NO_JOB came back while other grabs are still outstanding; no new grabs, and
 *   PRE_SLEEP follows when the last one is answered.
 * - `sleeping`: PRE_SLEEP was sent after a NO_JOB; only a NOOP makes the link idle again.
 *
 * Grabs are pipelined ("Responses to a worker's GRAB_* requests arrive in request order"): after a
 * wake-up a link probes with one grab; once the server has assigned a job it may have as many
 * grabs outstanding as the worker has free slots, so a busy worker does not pay a round trip per
 * job, and an idle one does not flood the server with grabs that all come back NO_JOB.
 */
import { Connection } from '../connection/connection.ts';
import type { ServerAddress } from '../connection/server-address.ts';
import type { Packet } from '../protocol/packets.ts';
import { CONSTANT_PACKETS } from '../protocol/serializer.ts';
import type { ActiveJob } from './worker-job.ts';

export type GrabState = 'idle' | 'draining' | 'sleeping';

/** How often a link that holds a job with a CAN_DO_TIMEOUT grabs instead of sleeping. */
const POLL_MS = 250;

export interface LinkOptions {
  maxPacketSize: number | undefined;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export class ServerLink {
  readonly address: string;
  readonly connection: Connection;
  state: GrabState = 'idle';
  /** GRAB_JOB_UNIQs sent and not yet answered. */
  pending = 0;
  /** True once the server assigned a job since the last wake-up: grabs may then be pipelined. */
  burst = false;
  /** Jobs this server has assigned to us and still holds, by handle. */
  readonly jobs = new Map<string, ActiveJob>();
  /** The last failed connect attempt, for start()'s error message. */
  lastError: Error | undefined;
  readonly #onPacket: (link: ServerLink, packet: Packet) => void;
  #poll: NodeJS.Timeout | undefined;

  constructor(server: ServerAddress, options: LinkOptions, onPacket: (link: ServerLink, packet: Packet) => void) {
    this.#onPacket = onPacket;
    this.connection = new Connection({
      host: server.host,
      port: server.port,
      ...(server.tls === undefined ? {} : { tls: server.tls }),
      onPacket: (packet) => onPacket(this, packet),
      initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      ...(options.maxPacketSize === undefined ? {} : { maxPacketSize: options.maxPacketSize }),
    });
    this.address = this.connection.address;
    this.connection.on('error', (error) => {
      this.lastError = error;
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** May this link take another grab now? */
  get canGrab(): boolean {
    return this.state === 'idle' && this.connected && (this.burst || this.pending === 0);
  }

  /**
   * The server answered GRAB_JOB_UNIQ with an unknown-command ERROR (the Perl Gearman::Server:
   * `server_error` "Can't locate object method "CMD_" …"): grab with plain GRAB_JOB from now on,
   * whose JOB_ASSIGN carries no unique.
   */
  plainGrab = false;

  /** Sends GRAB_JOB_UNIQ (GRAB_JOB after a fallback); false if the socket is down. */
  grab(): boolean {
    if (!this.connection.sendRaw(this.plainGrab ? CONSTANT_PACKETS.GRAB_JOB : CONSTANT_PACKETS.GRAB_JOB_UNIQ)) return false;
    this.pending++;
    return true;
  }

  /**
   * After NO_JOB: PRE_SLEEP, then wait for NOOP. But gearmand 1.1.x keeps one CAN_DO_TIMEOUT timer
   * per connection and clears it on PRE_SLEEP (probed), so while this link holds a job with a
   * timeout it polls instead (a grab every POLL_MS, woken as if by NOOP): the server's timer
   * then requeues an overdue job, as our own timer assumes.
   */
  sleep(): void {
    this.burst = false;
    if ([...this.jobs.values()].some((job) => job.timed)) {
      this.state = 'sleeping';
      this.#poll ??= setTimeout(() => {
        this.#poll = undefined;
        this.#onPacket(this, { type: 'NOOP' });
      }, POLL_MS);
      this.#poll.unref();
      return;
    }
    this.state = this.connection.sendRaw(CONSTANT_PACKETS.PRE_SLEEP) ? 'sleeping' : 'idle';
  }

  /** The connection is new or lost: nothing outstanding, awake. Returns the grabs that were pending. */
  reset(): number {
    if (this.#poll) clearTimeout(this.#poll);
    this.#poll = undefined;
    const pending = this.pending;
    this.pending = 0;
    this.burst = false;
    this.state = 'idle';
    return pending;
  }

  /** CAN_DO, or CAN_DO_TIMEOUT with the timeout as decimal ASCII milliseconds. */
  canDo(fn: string, timeout: number | undefined): void {
    if (timeout === undefined) this.connection.send({ type: 'CAN_DO', fn });
    else this.connection.send({ type: 'CAN_DO_TIMEOUT', fn, timeout: String(timeout) });
  }

  /** Takes every held job off the link (the server requeues them when it loses or drops us). */
  takeJobs(predicate: (job: ActiveJob) => boolean = () => true): ActiveJob[] {
    const taken: ActiveJob[] = [];
    for (const [handle, job] of this.jobs) {
      if (!predicate(job)) continue;
      this.jobs.delete(handle);
      taken.push(job);
    }
    return taken;
  }
}
