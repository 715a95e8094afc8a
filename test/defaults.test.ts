/**
 * Options merge over defaults so that an option given as `undefined` means "the default", as when
 * it is left out: a caller that forwards its own optional settings does not have to strip them.
 */
import { describe, expect, it } from 'vitest';
import { AdminClient, Client, Worker } from 'gmr';
import { withDefaults } from '../src/defaults.ts';

describe('explicit undefined means default', () => {
  it('new Client({ maxInFlight: undefined }) is a client with the default limit', async () => {
    const client = new Client({ servers: ['127.0.0.1:1'], maxInFlight: undefined, timeoutMs: undefined, clientId: undefined });
    await client.close();
    expect(() => new Client({ maxInFlight: 0 })).toThrow('maxInFlight must be a positive integer, received 0');
  });

  it('new Worker and new AdminClient take undefined options as their defaults', async () => {
    const worker = new Worker({ servers: ['127.0.0.1:1'], concurrency: undefined, failWith: undefined });
    await worker.close();
    const admin = new AdminClient({ host: undefined, port: undefined, timeoutMs: undefined });
    expect([admin.host, admin.port]).toEqual(['127.0.0.1', 4730]);
    await admin.close();
  });

  it('withDefaults keeps given values, falsy ones too, and skips only undefined', () => {
    const defaults = { a: 1, b: 'x', c: true };
    expect(withDefaults(defaults, { a: undefined, b: '', c: false, d: 0 })).toEqual({ a: 1, b: '', c: false, d: 0 });
    expect(withDefaults(defaults, undefined)).toEqual(defaults);
  });
});
