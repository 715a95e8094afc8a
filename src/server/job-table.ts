/**
 * Every live job by handle, for the WORK_* packets, GET_STATUS and admin that name one. A hash
 * table chained through the jobs themselves (Job.hashNext), hashed on the handle's trailing digits
 * (our handles are `${prefix}:${n}`, n counting up): adding and removing a job allocate nothing and
 * hash no string, where a Map re-allocated its table every few hundred jobs and hashed each new
 * handle string. Iteration is in creation order, as the Map's was.
 */
import type { Job } from './records.ts';

const INITIAL_BUCKETS = 1024;

/** The handle's trailing decimal digits as a 32-bit number (0 when it ends in none); the same handle always hashes alike. */
function handleHash(handle: string): number {
  let hash = 0;
  let scale = 1;
  for (let i = handle.length - 1; i >= 0; i--) {
    const digit = handle.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    hash = (hash + digit * scale) | 0;
    scale = (scale * 10) | 0;
  }
  return hash;
}

/** handleHash of the ASCII bytes `buf[start, end)`: the hash of the string they spell. */
function bytesHash(buf: Buffer, start: number, end: number): number {
  let hash = 0;
  let scale = 1;
  for (let i = end - 1; i >= start; i--) {
    const digit = (buf[i] as number) - 48;
    if (digit < 0 || digit > 9) break;
    hash = (hash + digit * scale) | 0;
    scale = (scale * 10) | 0;
  }
  return hash;
}

/** Does `handle` consist of exactly the bytes `buf[start, end)`, all ASCII? */
function spells(handle: string, buf: Buffer, start: number, end: number): boolean {
  if (handle.length !== end - start) return false;
  for (let i = 0; i < handle.length; i++) {
    const byte = buf[start + i] as number;
    if (byte > 0x7f || handle.charCodeAt(i) !== byte) return false;
  }
  return true;
}

export class JobTable {
  #buckets: (Job | undefined)[] = new Array<Job | undefined>(INITIAL_BUCKETS).fill(undefined);
  #mask = INITIAL_BUCKETS - 1;
  /** Jobs ever added: each job's `created`, for creation order. */
  #added = 0;
  size = 0;

  get(handle: string): Job | undefined {
    for (let job = this.#buckets[handleHash(handle) & this.#mask]; job; job = job.hashNext) {
      if (job.handle === handle) return job;
    }
    return undefined;
  }

  /**
   * The job whose handle is spelled by the ASCII bytes `buf[start, end)`, without decoding them
   * into a string (a WORK_COMPLETE's handle). Undefined when there is none, and for any byte above
   * 0x7f: the caller then decodes the handle and asks get(), which decides those cases.
   */
  getBytes(buf: Buffer, start: number, end: number): Job | undefined {
    for (let job = this.#buckets[bytesHash(buf, start, end) & this.#mask]; job; job = job.hashNext) {
      if (spells(job.handle, buf, start, end)) return job;
    }
    return undefined;
  }

  /** Adds a job whose handle is not in the table (every job gets a new handle). */
  add(job: Job): void {
    if (this.size >= this.#buckets.length) this.#resize(this.#buckets.length * 2);
    job.created = ++this.#added;
    const index = handleHash(job.handle) & this.#mask;
    job.hashNext = this.#buckets[index];
    this.#buckets[index] = job;
    this.size++;
  }

  /** Removes this job (not another one with its handle); false if it was not in the table. */
  delete(job: Job): boolean {
    const index = handleHash(job.handle) & this.#mask;
    let prev: Job | undefined;
    for (let at = this.#buckets[index]; at; prev = at, at = at.hashNext) {
      if (at !== job) continue;
      if (prev) prev.hashNext = job.hashNext;
      else this.#buckets[index] = job.hashNext;
      job.hashNext = undefined;
      this.size--;
      if (this.#buckets.length > INITIAL_BUCKETS && this.size * 8 < this.#buckets.length) this.#resize(this.#buckets.length / 4);
      return true;
    }
    return false;
  }

  clear(): void {
    for (const job of this.values()) job.hashNext = undefined;
    this.#buckets = new Array<Job | undefined>(INITIAL_BUCKETS).fill(undefined);
    this.#mask = INITIAL_BUCKETS - 1;
    this.size = 0;
  }

  /** Every job, in creation order (handles count up). A copy: the caller may change the table while it walks. */
  values(): Job[] {
    const out: Job[] = [];
    for (const head of this.#buckets) for (let job = head; job; job = job.hashNext) out.push(job);
    return out.sort((a, b) => a.created - b.created);
  }

  #resize(buckets: number): void {
    const jobs: Job[] = [];
    for (const head of this.#buckets) for (let job = head; job; job = job.hashNext) jobs.push(job);
    this.#buckets = new Array<Job | undefined>(buckets).fill(undefined);
    this.#mask = buckets - 1;
    for (const job of jobs) {
      const index = handleHash(job.handle) & this.#mask;
      job.hashNext = this.#buckets[index];
      this.#buckets[index] = job;
    }
  }
}
