/**
 * The TLS flags, named like gearmand's (--ssl, --ssl-ca-file, --ssl-certificate, --ssl-key), and
 * what they mean for a server (gmr server) and for a role that connects (gmr worker, gmr run).
 */
import type { TlsOptions } from '../connection/tls-options.ts';
import { UsageError } from '../errors.ts';
import type { JobServerTlsOptions } from '../server/job-server.ts';

const SECTION = 'TLS';

/** What each TLS flag means for one side; the flags themselves are the same for both. */
interface TlsHelp {
  ssl: string;
  ca: string;
  certificate: string;
}

/** The four TLS flags with one side's help texts. */
function tlsFlags(help: TlsHelp) {
  return {
    ssl: { type: 'boolean', section: SECTION, help: help.ssl },
    'ssl-ca-file': { type: 'string', value: 'PATH', section: SECTION, help: help.ca },
    'ssl-certificate': { type: 'string', value: 'PATH', section: SECTION, help: help.certificate },
    'ssl-key': { type: 'string', value: 'PATH', section: SECTION, help: 'key of --ssl-certificate' },
  } as const;
}

export const CLIENT_TLS_FLAGS = tlsFlags({
  ssl: 'connect to every server in the list over TLS\n(without it, only tls://host:port entries use TLS, with the system CAs)',
  ca: "CA that signed the servers' certificates (with --ssl)",
  certificate: 'client certificate, for servers that ask for one (with --ssl)',
});

export const SERVER_TLS_FLAGS = tlsFlags({
  ssl: 'accept TLS connections only (needs --ssl-certificate and --ssl-key)',
  ca: 'require client certificates signed by this CA',
  certificate: "the server's certificate",
});

interface TlsValues {
  ssl: boolean;
  'ssl-ca-file': string | undefined;
  'ssl-certificate': string | undefined;
  'ssl-key': string | undefined;
}

function checkFiles(values: TlsValues): void {
  const given = (['ssl-ca-file', 'ssl-certificate', 'ssl-key'] as const).filter((name) => values[name] !== undefined);
  if (!values.ssl && given.length > 0) throw new UsageError(`--${given[0]} needs --ssl`);
  if ((values['ssl-certificate'] === undefined) !== (values['ssl-key'] === undefined)) {
    throw new UsageError('--ssl-certificate and --ssl-key go together: give both or neither');
  }
}

/** TLS options for every server a worker or run connects to; undefined without --ssl. */
export function clientTls(values: TlsValues): TlsOptions | undefined {
  checkFiles(values);
  if (!values.ssl) return undefined;
  return {
    ...(values['ssl-ca-file'] === undefined ? {} : { ca: values['ssl-ca-file'] }),
    ...(values['ssl-certificate'] === undefined ? {} : { cert: values['ssl-certificate'] }),
    ...(values['ssl-key'] === undefined ? {} : { key: values['ssl-key'] }),
  };
}

/** The TLS listener's options; undefined without --ssl. --ssl-ca-file turns on client-certificate checks. */
export function serverTls(values: TlsValues): JobServerTlsOptions | undefined {
  checkFiles(values);
  if (!values.ssl) return undefined;
  const cert = values['ssl-certificate'];
  const key = values['ssl-key'];
  if (cert === undefined || key === undefined) throw new UsageError('gmr server --ssl needs --ssl-certificate and --ssl-key');
  const ca = values['ssl-ca-file'];
  return { cert, key, ...(ca === undefined ? {} : { ca, requestCert: true }) };
}
