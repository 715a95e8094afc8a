/**
 * The Client's job servers: one ServerSlot each, the hash ring that picks among them, waiting for
 * first connects, and which server created which handle (for GET_STATUS).
 */
import { ClosedError, ConnectionError, type GearmanError } from '../errors.ts';
import type { TlsOptions } from '../connection/tls-options.ts';
import { parseServerAddress, withRoleTls, type ServerAddress } from '../connection/server-address.ts';
import { ServerRing } from './server-ring.ts';
import { ServerSlot, type SlotJob } from './server-slot.ts';

export interface ServerPoolOptions {
  servers: Array<string | ServerAddress>;
  clientId: string | undefined;
  connectTimeoutMs: number | undefined;
  maxPacketSize: number | undefined;
  tls: TlsOptions | undefined;
  maxRememberedHandles: number;
  stateChanged(slot: ServerSlot): void;
  lost(slot: ServerSlot, error: GearmanError, jobs: SlotJob[]): void;
  error(error: Error): void;
}

/** Where a job should go now. */
export type Choice = { slot: ServerSlot } | { wait: true } | { down: true };

export class ServerPool {
  readonly slots: ServerSlot[];
  readonly #ring: ServerRing;
  readonly #owners = new Map<string, ServerSlot>();
  readonly #waiters = new Set<() => void>();
  readonly #maxOwners: number;
  #started = false;
  #closed = false;

  constructor(options: ServerPoolOptions) {
    if (!Array.isArray(options.servers) || options.servers.length === 0) {
      throw new RangeError('servers must list at least one job server, received an empty list');
    }
    const hooks = {
      stateChanged: (slot: ServerSlot): void => {
        this.#wake();
        options.stateChanged(slot);
      },
      lost: options.lost,
      error: options.error,
    };
    this.slots = options.servers.map(
      (server) =>
        new ServerSlot({
          address: withRoleTls(typeof server === 'string' ? parseServerAddress(server) : server, options.tls),
          clientId: options.clientId,
          connectTimeoutMs: options.connectTimeoutMs,
          maxPacketSize: options.maxPacketSize,
          hooks,
        }),
    );
    this.#ring = new ServerRing(this.slots.length);
    this.#maxOwners = options.maxRememberedHandles;
  }

  /** Opens every connection on first use (no sockets for a Client that is never used). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const slot of this.slots) slot.start();
  }

  /** Servers in the order to try for a key (hashed), or round-robin without one. */
  candidates(key: Buffer | string | undefined): ServerSlot[] {
    return this.#ring.order(key).map((i) => this.slots[i] as ServerSlot);
  }

  /**
   * The first candidate that is up, skipping those that are down; a candidate that has not had
   * its first connect attempt yet is waited for rather than skipped, so that a starting client
   * keeps the key → server mapping that other clients use.
   */
  choose(candidates: ServerSlot[]): Choice {
    for (const slot of candidates) {
      if (slot.state === 'up') return { slot };
      if (slot.state === 'pending') return { wait: true };
    }
    return { down: true };
  }

  /** Resolves with the chosen server once one is up; ConnectionError when all candidates are down. */
  async ready(candidates: ServerSlot[], what: string): Promise<ServerSlot> {
    this.start();
    for (;;) {
      if (this.#closed) throw new ClosedError('Client');
      const choice = this.choose(candidates);
      if ('slot' in choice) return choice.slot;
      if ('down' in choice) {
        throw new ConnectionError(`No job server reachable for ${what}: tried ${this.describe(candidates)}`);
      }
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  /** `host:port (last error)` for each server, for error messages. */
  describe(slots: ServerSlot[] = this.slots): string {
    return slots.map((s) => `${s.address}${s.lastError ? ` (${s.lastError.message})` : ''}`).join(', ');
  }

  /** Addresses that are not connected right now. */
  notConnected(): string[] {
    return this.slots.filter((s) => s.state !== 'up').map((s) => s.address);
  }

  byAddress(address: string): ServerSlot {
    const slot = this.slots.find((s) => s.address === address);
    if (!slot) {
      throw new RangeError(`Unknown server "${address}"; configured: ${this.slots.map((s) => s.address).join(', ')}`);
    }
    return slot;
  }

  /** Records which server created a handle (bounded: the oldest entries are forgotten). */
  remember(handle: string, slot: ServerSlot): void {
    this.#owners.delete(handle);
    this.#owners.set(handle, slot);
    if (this.#owners.size > this.#maxOwners) {
      const oldest = this.#owners.keys().next();
      if (!oldest.done) this.#owners.delete(oldest.value);
    }
  }

  /**
   * The server that created a handle, else the first server. gearmand handles are
   * `H:<hostname>:<counter>`, so two servers on one host can issue the same handle: the most
   * recent submit wins here; pass the server explicitly to getStatus when that matters.
   */
  ownerOf(handle: string): ServerSlot {
    return this.#owners.get(handle) ?? (this.slots[0] as ServerSlot);
  }

  /** Closes every connection, even when one close throws; rejects with the first failure. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    this.#owners.clear();
    const results = await Promise.allSettled(this.slots.map((slot) => slot.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}
