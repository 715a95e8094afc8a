/**
 * A job server's address, and how `host:port` text (IPv6 in brackets) becomes one.
 */
import { ConnectionError } from '../errors.ts';
import { DEFAULT_PORT } from '../protocol/limits.ts';

export interface ServerAddress {
  host: string;
  port: number;
}

/** Parses `host:port` (port defaults to DEFAULT_PORT, 4730). */
export function parseServerAddress(text: string, defaultPort = DEFAULT_PORT): ServerAddress {
  const trimmed = text.trim();
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(trimmed);
  if (!match) throw new ConnectionError(`Bad server address "${text}": expected host or host:port`);
  const host = (match[1] as string).replace(/^\[|\]$/g, '');
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectionError(`Bad port in server address "${text}": expected 1-65535`);
  }
  return { host, port };
}
