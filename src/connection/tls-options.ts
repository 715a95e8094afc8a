/**
 * TLS for a connection to a job server: the options (files or PEM bytes) and the socket opener.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { UsageError } from '../errors.ts';

/** A string is a file path (or PEM text when it starts with `-----BEGIN`); a Buffer is PEM bytes. */
export type PemSource = string | Buffer;

export interface TlsOptions {
  /** CA certificate(s) trusted for the server's certificate; default Node's bundled roots. */
  ca?: PemSource;
  /** Client certificate, for servers that ask for one. */
  cert?: PemSource;
  /** Key of `cert`. */
  key?: PemSource;
  /** Refuse a server whose certificate does not verify (default true). */
  rejectUnauthorized?: boolean;
  /** Name checked against the server's certificate (default the host, when it is a name). */
  servername?: string;
}

/** Reads a PEM source: file contents, or the bytes/text given. */
export function readPem(what: string, source: PemSource): Buffer {
  if (Buffer.isBuffer(source)) return source;
  if (source.trimStart().startsWith('-----BEGIN')) return Buffer.from(source);
  try {
    return fs.readFileSync(source);
  } catch (error) {
    throw new UsageError(`Cannot read TLS ${what} file "${source}": ${(error as Error).message}`);
  }
}

/** The TLS options with files read, for `tls.connect` / `tls.createServer`. */
export function resolvePems(options: TlsOptions): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  return {
    ...(options.ca === undefined ? {} : { ca: readPem('CA', options.ca) }),
    ...(options.cert === undefined ? {} : { cert: readPem('certificate', options.cert) }),
    ...(options.key === undefined ? {} : { key: readPem('key', options.key) }),
  };
}

/**
 * Opens a socket to host:port, over TLS when `options` is given. `ready` is the event that says
 * the socket can carry packets: `connect` for TCP, `secureConnect` once the TLS handshake is done.
 */
export function openSocket(
  host: string,
  port: number,
  options: TlsOptions | undefined,
): { socket: net.Socket; ready: 'connect' | 'secureConnect' } {
  // A host that is an absolute path is a Unix socket (server-address.ts: the embedded server's).
  if (options === undefined) return { socket: net.connect(host.startsWith('/') ? { path: host } : { host, port }), ready: 'connect' };
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  const socket = tls.connect({
    host,
    port,
    ...resolvePems(options),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    ...(servername === undefined ? {} : { servername }),
  });
  return { socket, ready: 'secureConnect' };
}

/**
 * The first bytes of a TLS record (handshake 0x16 or alert 0x15, version 3.x): what a plain
 * client reads when the server it reached speaks TLS.
 */
export function looksLikeTls(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x16 || chunk[0] === 0x15) && chunk[1] === 0x03;
}
