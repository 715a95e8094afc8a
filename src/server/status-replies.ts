/** GET_STATUS and GET_STATUS_UNIQUE: a job's state and last WORK_STATUS, zero-filled when unknown. */
import type { FunctionTable } from './functions.ts';
import type { JobTable } from './job-table.ts';
import type { Job, Session } from './records.ts';

/** GET_STATUS: zero-filled when the handle is unknown. */
export function statusReply(jobs: JobTable, session: Session, handle: string): void {
  const job = jobs.get(handle);
  session.peer.sendPacket({ type: 'STATUS_RES', handle, ...statusFields(job) });
}

/** GET_STATUS_UNIQUE: "looked up by unique across all functions (the first match wins)". */
export function statusUniqueReply(functions: FunctionTable, session: Session, unique: string): void {
  let job: Job | undefined;
  for (const fn of functions.values()) if ((job = fn.uniques.get(unique))) break;
  session.peer.sendPacket({ type: 'STATUS_RES_UNIQUE', unique, ...statusFields(job), clientCount: String(job?.clients.length ?? 0) });
}

/** The fields STATUS_RES and STATUS_RES_UNIQUE share: known, running and the last WORK_STATUS (zeros for an unknown job). */
function statusFields(job: Job | undefined): { known: string; running: string; numerator: string; denominator: string } {
  return {
    known: job ? '1' : '0',
    running: job?.state === 'running' ? '1' : '0',
    numerator: job?.numerator ?? '0',
    denominator: job?.denominator ?? '0',
  };
}
