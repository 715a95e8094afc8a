/**
 * Where the next GRAB_JOB_UNIQ goes. A grab is sent only while the worker has a free slot
 * (running jobs + outstanding grabs < concurrency), so however the servers answer, the worker
 * never holds more than `concurrency` jobs; gearmand lets one connection hold several (§3.2), and
 * a link that is being assigned jobs pipelines its grabs (ServerLink.canGrab). Links are taken round-robin, starting
 * after the one that grabbed last, so every server gets its turn.
 */
import type { ServerLink } from './server-link.ts';

export class GrabScheduler {
  #outstanding = 0;
  #cursor = 0;

  /** Grabs sent and not yet answered. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Sends grabs on connected idle links while `running + outstanding < concurrency`. */
  fill(links: readonly ServerLink[], running: number, concurrency: number): void {
    const count = links.length;
    while (running + this.#outstanding < concurrency) {
      let picked: ServerLink | undefined;
      for (let step = 1; step <= count && !picked; step++) {
        const index = (this.#cursor + step) % count;
        const link = links[index];
        if (link && link.canGrab) {
          picked = link;
          this.#cursor = index;
        }
      }
      if (!picked || !picked.grab()) return;
      this.#outstanding++;
    }
  }

  /** `count` grabs were answered (JOB_ASSIGN_UNIQ or NO_JOB), or lost with their connection. */
  settled(count = 1): void {
    this.#outstanding -= count;
  }
}
