/**
 * Before a run on external job servers: check through the admin protocol that every server has
 * workers for the job's functions, and fail fast with a message that says how to start one.
 */
import { AdminClient } from '../../client/admin-client.ts';
import type { TlsOptions } from '../../connection/tls-options.ts';
import { UnavailableError } from '../../errors.ts';
import { mapFunctionName, reduceFunctionName } from '../shuffle/task-protocol.ts';

export async function checkServersHaveWorkers(
  servers: string[],
  job: string,
  needsReduce: boolean,
  tls?: TlsOptions,
): Promise<void> {
  const functions = [mapFunctionName(job), ...(needsReduce ? [reduceFunctionName(job)] : [])];
  const problems: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      const admin = new AdminClient({ server, ...(tls ? { tls } : {}) });
      try {
        const status = await admin.status();
        for (const fn of functions) {
          const row = status.find((s) => s.function === fn);
          if (!row || row.workers === 0) problems.push(`${server} has no worker for ${fn}`);
        }
      } catch (error) {
        problems.push(`${server} cannot be asked for its status: ${(error as Error).message}`);
      } finally {
        await admin.close().catch(() => {});
      }
    }),
  );
  if (problems.length > 0) {
    throw new UnavailableError(
      `No workers for job ${job}: ${problems.join('; ')}. Start one on each machine that does work: gmr worker --servers ${servers.join(',')} --jobs ${job}`,
    );
  }
}
