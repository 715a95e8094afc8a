/**
 * A job server's address, and how `[tls://]host:port` text (IPv6 in brackets) becomes one.
 */
import { ConnectionError } from '../errors.ts';
import { DEFAULT_PORT } from '../protocol/limits.ts';
import type { TlsOptions } from './tls-options.ts';

export interface ServerAddress {
  host: string;
  port: number;
  /** Connect over TLS with these options (absent: plain TCP). */
  tls?: TlsOptions;
}

const TLS_SCHEME = 'tls://';

/**
 * A Unix socket's address is its absolute path (`/tmp/gmr-x/server.sock`, or with a `unix:`
 * prefix), kept in `host` with port 0; gmr run's embedded server listens on one.
 */
export function isSocketPath(host: string): boolean {
  return host.startsWith('/');
}

/** An address as text: `host:port`, or a socket's path. */
export function formatAddress(host: string, port: number): string {
  return isSocketPath(host) ? host : `${host}:${port}`;
}

/**
 * Parses `host:port` (port defaults to DEFAULT_PORT, 4730); `tls://host:port` is the same server
 * reached over TLS (with the role's TLS options, or Node's defaults); a Unix socket path (`/path`
 * or `unix:/path`) is a local server.
 */
export function parseServerAddress(text: string, defaultPort = DEFAULT_PORT): ServerAddress {
  const socket = text.trim().startsWith('unix:') ? text.trim().slice(5) : text.trim();
  if (isSocketPath(socket)) return { host: socket, port: 0 };
  const secure = text.trim().toLowerCase().startsWith(TLS_SCHEME);
  const trimmed = secure ? text.trim().slice(TLS_SCHEME.length) : text.trim();
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(trimmed);
  if (!match) throw new ConnectionError(`Bad server address "${text}": expected host or host:port`);
  const host = (match[1] as string).replace(/^\[|\]$/g, '');
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectionError(`Bad port in server address "${text}": expected 1-65535`);
  }
  return secure ? { host, port, tls: {} } : { host, port };
}

/**
 * The address a role connects to: TLS when the role has TLS options (every server then) or the
 * address asks for it; the address's own options win over the role's.
 */
export function withRoleTls(address: ServerAddress, roleTls: TlsOptions | undefined): ServerAddress {
  if (roleTls === undefined && address.tls === undefined) return address;
  return { ...address, tls: { ...roleTls, ...address.tls } };
}
