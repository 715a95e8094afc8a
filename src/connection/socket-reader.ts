/** Feeds what a job server sends into a PacketParser, and stops a plain socket that hears TLS. */
import type net from 'node:net';
import type { PacketParser } from '../protocol/parser.ts';
import { looksLikeTls } from './tls-options.ts';

/** What the reader has seen so far. */
export interface SocketReader {
  /** Whether the server has sent anything (a close before any byte reads differently). */
  readonly received: boolean;
}

/**
 * Pushes every chunk the socket reads into `parser`. On a plain socket (`secure` false) whose first
 * bytes are a TLS record, the socket is destroyed with an error saying to connect with TLS; a chunk
 * the parser refuses destroys the socket with the parser's error. Either way the socket's `close`
 * handler reports it, with the error as `socket.errored`.
 */
export function readPackets(socket: net.Socket, parser: PacketParser, secure: boolean): SocketReader {
  const reader = { received: false };
  socket.on('data', (chunk: Buffer) => {
    if (!reader.received && !secure && looksLikeTls(chunk)) {
      socket.destroy(new Error('it answered in TLS: connect with TLS (tls://host:port, or --ssl)'));
      return;
    }
    reader.received = true;
    try {
      parser.push(chunk);
    } catch (error) {
      socket.destroy(error as Error);
    }
  });
  return reader;
}
