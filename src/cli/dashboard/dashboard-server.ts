/**
 * The dashboard's HTTP server (node:http, no framework): `/` the page, `/events` server-sent
 * events with the re-rendered <main> after each poll, `/view.json` the same facts for scripts.
 * It binds 127.0.0.1 unless told otherwise; it only reads, so GET and HEAD are all it answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from '../../connection/tls-options.ts';
import { ConnectionError } from '../../errors.ts';
import { watchRun, type WatchedRun } from '../../mapreduce/status/live-status.ts';
import type { RunStatus } from '../../mapreduce/status/run-status.ts';
import { ClusterWatcher } from './cluster-view.ts';
import { renderMain, renderPage, type DashboardView } from './render-page.ts';

export interface DashboardOptions {
  /** Job servers to show (host:port), or where to read them at each poll (a run's, once known). */
  servers: string[] | (() => string[]);
  /** The runs to show, read at each poll. */
  runs?: () => Promise<RunStatus[]>;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  title?: string;
  intervalMs?: number;
  /** TLS for every job server in `servers` (the CLI's --ssl); tls://host:port entries use TLS alone. */
  tls?: TlsOptions;
}

export class Dashboard {
  readonly #server: Server;
  #cluster: ClusterWatcher | undefined;
  #watched = '';
  readonly #options: DashboardOptions;
  readonly #clients = new Set<ServerResponse>();
  #view: DashboardView;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  private constructor(options: DashboardOptions) {
    this.#options = options;
    this.#view = { title: options.title ?? 'gmr dashboard', cluster: null, runs: [] };
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(options: DashboardOptions): Promise<Dashboard> {
    const dashboard = new Dashboard(options);
    await dashboard.#poll();
    await new Promise<void>((resolve, reject) => {
      dashboard.#server.once('error', (error) => {
        void dashboard.#cluster?.close();
        reject(new ConnectionError(`Dashboard cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${error.message}`, { cause: error }));
      });
      dashboard.#server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
    });
    dashboard.#schedule();
    return dashboard;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/`;
  }

  get view(): DashboardView {
    return this.#view;
  }

  /** Stops polling, ends the event streams and the server. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#polling?.catch(() => {});
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#cluster?.close();
  }

  /** Polls once more now and pushes the result (the run's end, say). */
  refresh(): Promise<void> {
    return this.#poll();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#poll().finally(() => this.#schedule());
    }, this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  #poll(): Promise<void> {
    this.#polling ??= (async () => {
      try {
        await this.#watchServers();
        const [cluster, statuses] = await Promise.all([this.#cluster?.poll() ?? null, this.#options.runs?.().catch(() => []) ?? []]);
        const runs: WatchedRun[] = await Promise.all(statuses.map((s) => watchRun(s, this.#options.tls ? { tls: this.#options.tls } : {})));
        this.#view = { ...this.#view, cluster, runs };
        const event = `event: update\ndata: ${JSON.stringify({ html: renderMain(this.#view) })}\n\n`;
        for (const res of this.#clients) res.write(event);
      } finally {
        this.#polling = undefined;
      }
    })();
    return this.#polling;
  }

  /** (Re)creates the cluster watcher when the list of servers changed. */
  async #watchServers(): Promise<void> {
    const servers = typeof this.#options.servers === 'function' ? this.#options.servers() : this.#options.servers;
    const key = servers.join(',');
    if (key === this.#watched) return;
    this.#watched = key;
    await this.#cluster?.close();
    this.#cluster = servers.length > 0 ? new ClusterWatcher(servers, this.#options.tls ? { tls: this.#options.tls } : {}) : undefined;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read only: GET or HEAD\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(renderPage(this.#view));
    } else if (path === '/view.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(this.#view)}\n`);
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 2000\nevent: update\ndata: ${JSON.stringify({ html: renderMain(this.#view) })}\n\n`);
      this.#clients.add(res);
      req.once('close', () => this.#clients.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no page ${path}: try /, /events or /view.json\n`);
    }
  }
}
