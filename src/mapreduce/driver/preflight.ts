/**
 * Before a run on external job servers: check through the admin protocol that every server has
 * workers for the job's functions, and that none of them serves another version of the job's
 * module (gmr workers also register `gmr.module.<job>.<hash>`, a function that only marks which
 * module they loaded), and fail fast with a message that says what to start or restart.
 */
import path from 'node:path';
import { AdminClient } from '../../client/admin-client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import { UnavailableError } from '../../errors.ts';
import type { LoadedJob } from '../job/load-job.ts';
import { shortHash } from '../job/module-identity.ts';
import { mapFunctionName, moduleFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';

export async function checkServersHaveWorkers(
  servers: string[],
  loaded: Pick<LoadedJob, 'name' | 'sha256' | 'source' | 'builtin'>,
  needsReduce: boolean,
  tls?: TlsOptions,
  /** How a worker for this job is started, after `gmr worker --servers …` (default `--jobs <job>`). */
  workerFlags?: string,
): Promise<void> {
  const job = loaded.name;
  const functions = [mapFunctionName(job), ...(needsReduce ? [reduceFunctionName(job)] : [])];
  const mine = moduleFunctionName(job, loaded.sha256);
  const modulePrefix = `${moduleFunctionName(job, '')}`;
  const moduleName = loaded.builtin ? `the built-in job ${job}` : path.basename(loaded.source);
  const problems: string[] = [];
  const versions: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      const admin = new AdminClient({ server, ...(tls ? { tls } : {}) });
      try {
        const status = await admin.status();
        for (const fn of functions) {
          const row = status.find((s) => s.function === fn);
          if (!row || row.workers === 0) problems.push(`${server} has no worker for ${fn}`);
        }
        const others = status.filter((s) => s.function.startsWith(modulePrefix) && s.function !== mine && s.workers > 0);
        if (others.length > 0) {
          const theirs = others.map((s) => s.function.slice(modulePrefix.length)).join(', ');
          versions.push(`workers on ${server} serve another version of ${moduleName} (module sha256 ${theirs} there, ${shortHash(loaded.sha256)} here)`);
        }
      } catch (error) {
        problems.push(`${server} cannot be asked for its status: ${(error as Error).message}`);
      } finally {
        await admin.close().catch(() => {});
      }
    }),
  );
  if (versions.length > 0) {
    throw new UnavailableError(`${versions.join('; ')}: they would refuse its tasks. Restart them with this version: gmr worker --servers ${servers.join(',')} ${workerFlags ?? `--jobs ${loaded.builtin ? job : loaded.source}`}`);
  }
  if (problems.length > 0) {
    throw new UnavailableError(
      `No workers for job ${job}: ${problems.join('; ')}. Start one on each machine that does work: gmr worker --servers ${servers.join(',')} ${workerFlags ?? `--jobs ${job}`}`,
    );
  }
}
