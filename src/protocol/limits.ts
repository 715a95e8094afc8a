/**
 * The limits of the wire, defined once for every role (client, worker, admin, server). Where a
 * number is gearmand's, the comment says how it was checked against gearmand 1.1.20.
 */

/** IANA's port for Gearman, gearmand's default. */
export const DEFAULT_PORT = 4730;

/** Where roles look for a server when given none. */
export const DEFAULT_SERVER = `127.0.0.1:${DEFAULT_PORT}`;

/**
 * The longest unique gearmand keeps whole. libgearman's GEARMAN_MAX_UNIQUE_SIZE is 64 with the
 * terminating NUL: its clients refuse 64 bytes, gearmand 1.1.20 stores a 64-byte unique cut to 63
 * and answers more with ERROR ARGUMENT_TOO_LARGE (test/conformance/limits.test.ts).
 */
export const MAX_UNIQUE_BYTES = 63;

/** gearmand (>= 1.1.19) reads CAN_DO_TIMEOUT in milliseconds, with a minimum of one second. */
export const MIN_CAN_DO_TIMEOUT_MS = 1000;

/**
 * The largest packet data a client or worker accepts from its server unless told otherwise (gmr
 * chooses its servers; the field is uint32 and gearmand has no limit).
 */
export const DEFAULT_MAX_PACKET_SIZE = 1024 * 1024 * 1024;

/**
 * The largest packet data `gmr server` accepts from any peer unless told otherwise (`maxPacketSize`,
 * `--max-packet`): twice the largest default map split a driver ships (64 MiB), so a stranger
 * cannot make one connection hold a gigabyte.
 */
export const DEFAULT_SERVER_MAX_PACKET_SIZE = 128 * 1024 * 1024;

/**
 * The largest packet without a payload (only text arguments: a function name of up to 8 KiB, a
 * unique, a handle): a 20 MiB CAN_DO is refused from its header, before any of it is buffered.
 */
export const MAX_ARGUMENTS_BYTES = 16 * 1024;

/** An admin text line longer than this without a newline closes the connection. */
export const MAX_TEXT_LINE = 64 * 1024;

/**
 * The longest function name: gearmand 1.1.20 registers a CAN_DO of 8192 bytes and closes the
 * connection at 8193 (probed; issue 16). Every role refuses longer names.
 */
export const MAX_FUNCTION_NAME_BYTES = 8192;

/**
 * A server connection whose unsent output passes this stops being read until the peer has taken
 * it (the socket drains), so a peer that sends without reading cannot grow the server.
 */
export const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;
