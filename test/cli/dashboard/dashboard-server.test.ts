/**
 * The dashboard over a real gearmand and our JobServer at once (and a server that is not there):
 * servers up/down with their versions, functions with queued/running/available workers, workers
 * per server, live updates over server-sent events, escaping of names, read-only, 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, JobServer, Worker } from 'gmr';
import { Dashboard } from '../../../src/cli/dashboard/dashboard-server.ts';
import { Cleanup, uniqueName } from '../../helpers/cleanup.ts';
import { freePort, useGearmand } from '../../helpers/gearmand.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const gearmand = useGearmand();
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Reads server-sent events from `url` until `match` holds for one event's data; returns it. */
async function eventMatching(url: string, match: (html: string) => boolean, limitMs = 20_000): Promise<{ html: string; seen: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limitMs);
  try {
    const response = await fetch(url, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    let seen = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').find((l) => l.startsWith('data: '));
        if (data) {
          seen++;
          const { html } = JSON.parse(data.slice(6)) as { html: string };
          if (match(html)) return { html, seen };
        }
        end = buffer.indexOf('\n\n');
      }
    }
    throw new Error('event stream ended');
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function row(html: string, table: string, first: string): string | undefined {
  const body = new RegExp(`<table id="${table}">(.*?)</table>`).exec(html)?.[1] ?? '';
  return body.split('<tr').find((r) => r.includes(first));
}

describe('gmr dashboard over gearmand and gmr server', () => {
  it('shows both servers up with versions, a dead one down, the functions with their workers, and workers per server', async () => {
    const ours = cleanup.add(await JobServer.listen({ port: 0 }));
    const dead = `127.0.0.1:${await freePort()}`;
    const fn = uniqueName('dash<b>');
    const worker = cleanup.add(new Worker({ servers: [gearmand.address, ours.address], clientId: 'dash-worker' }));
    worker.register(fn, async () => 'ok');
    await worker.start();
    const dashboard = cleanup.add(await Dashboard.start({ servers: [gearmand.address, ours.address, dead], port: 0, intervalMs: 200 }));
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await waitFor(() => (dashboard.view.cluster?.functions.find((f) => f.function === fn)?.workers ?? 0) >= 2, 'the worker on both servers');

    const html = await (await fetch(dashboard.url)).text();
    const escaped = fn.replace('<', '&lt;').replace('>', '&gt;');
    expect(html).not.toContain(fn);
    const fnRow = row(html, 'functions', escaped);
    expect(fnRow, html).toBeDefined();
    // function, queued, running, workers
    expect(fnRow).toMatch(new RegExp(`<code>${escaped}</code></td><td>0</td><td>0</td><td>2</td>`));
    expect(row(html, 'servers', gearmand.address)).toMatch(/<td>up<\/td><td>1\.1\.\d+/);
    expect(row(html, 'servers', ours.address)).toContain('<td>up</td>');
    expect(row(html, 'servers', dead)).toContain('<td>down</td>');
    for (const server of [gearmand.address, ours.address]) {
      const worker = (/<table id="workers">(.*?)<\/table>/.exec(html)?.[1] ?? '').split('<tr').find((r) => r.includes(server) && r.includes('dash-worker'));
      expect(worker, server).toContain(escaped);
    }
    // Without JavaScript the page refreshes itself.
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    const json = (await (await fetch(new URL('view.json', dashboard.url))).json()) as { cluster: { servers: Array<{ up: boolean }> } };
    expect(json.cluster.servers.map((s) => s.up)).toEqual([true, true, false]);
  });

  it('pushes a queued job over server-sent events without a reload', async () => {
    const fn = uniqueName('dash_queue');
    const dashboard = cleanup.add(await Dashboard.start({ servers: [gearmand.address], port: 0, intervalMs: 200 }));
    const first = await eventMatching(new URL('events', dashboard.url).href, () => true);
    expect(row(first.html, 'functions', fn)).toBeUndefined();
    const client = cleanup.add(new Client({ servers: [gearmand.address] }));
    // Nobody serves fn: the background job stays queued.
    await client.submitBackground(fn, 'x', { unique: uniqueName('u') });
    const later = await eventMatching(new URL('events', dashboard.url).href, (html) => row(html, 'functions', fn) !== undefined);
    expect(row(later.html, 'functions', fn)).toMatch(new RegExp(`<code>${fn}</code></td><td>1</td><td>0</td><td>0</td>`));
  });

  it('answers only GET and HEAD, and 404 names the pages there are', async () => {
    const dashboard = cleanup.add(await Dashboard.start({ servers: [gearmand.address], port: 0 }));
    const post = await fetch(dashboard.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    const missing = await fetch(new URL('nope', dashboard.url));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('no page /nope: try /, /events or /view.json\n');
  });
});
