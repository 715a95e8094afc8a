/**
 * Whether a run signs its tasks, and with what (docs/SECURITY.md). Secure is the default: the
 * embedded default signs with a fresh secret per run; external servers need the secret the
 * workers were started with (RunOptions.secret, from --secret-file or GMR_SECRET). --insecure
 * (no signatures) is refused for job servers that are not on this machine's loopback.
 */
import { parseServerAddress } from '../../connection/server-address.ts';
import { UsageError } from '../../errors.ts';
import { newSecret, SECRET_ENV } from '../shuffle/run-secret.ts';
import { secretFromText, type RunSecret } from '../shuffle/task-auth.ts';

export interface RunTrust {
  /** The secret's text, for the local workers' environment; undefined with --insecure. */
  text: string | undefined;
  key: RunSecret | undefined;
}

/** 127.0.0.0/8, ::1, localhost, or a Unix socket: only this machine can reach it. */
export function isLoopback(server: string): boolean {
  const { host, port } = parseServerAddress(server);
  if (port === 0 && host.startsWith('/')) return true;
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function runTrust(options: { servers?: string[]; secret?: string; insecure?: boolean }): RunTrust {
  const servers = options.servers ?? [];
  if (options.insecure) {
    const remote = servers.filter((s) => !isLoopback(s));
    if (remote.length > 0) {
      throw new UsageError(
        `--insecure runs unsigned tasks, so it is only for job servers on this machine's loopback; ${remote.join(', ')} ${remote.length === 1 ? 'is' : 'are'} not: give the run secret instead (--secret-file FILE or ${SECRET_ENV})`,
      );
    }
    return { text: undefined, key: undefined };
  }
  if (options.secret !== undefined) return { text: options.secret, key: secretFromText(options.secret, 'the run options') };
  if (servers.length > 0) {
    throw new UsageError(
      `gmr run --servers needs the run secret its workers were started with: --secret-file FILE or ${SECRET_ENV} (or --insecure, for job servers on loopback only)`,
    );
  }
  const text = newSecret();
  return { text, key: secretFromText(text, 'a fresh secret') };
}
