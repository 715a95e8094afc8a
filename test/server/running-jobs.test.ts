/** A worker session's running jobs: an intrusive list, oldest first, safe to unlink twice. */
import { describe, expect, it } from 'vitest';
import { FunctionRecord, Job, PRIORITY_NORMAL, RunningJobs } from '../../src/server/records.ts';

const fn = new FunctionRecord('f');
const job = (handle: string): Job =>
  new Job({ handle, fn, unique: '', key: undefined, data: Buffer.alloc(0), reducer: '', priority: PRIORITY_NORMAL, background: false, when: 0 });
const handles = (list: RunningJobs): string[] => list.toArray().map((j) => j.handle);

describe('RunningJobs', () => {
  it('keeps insertion order and size through unlinking the middle, head and tail', () => {
    const list = new RunningJobs();
    const [a, b, c, d] = ['H:1', 'H:2', 'H:3', 'H:4'].map(job) as [Job, Job, Job, Job];
    for (const j of [a, b, c, d]) list.add(j);
    expect(handles(list)).toEqual(['H:1', 'H:2', 'H:3', 'H:4']);
    list.delete(b);
    expect(handles(list)).toEqual(['H:1', 'H:3', 'H:4']);
    list.delete(a);
    list.delete(d);
    expect(handles(list)).toEqual(['H:3']);
    expect(list.size).toBe(1);
    list.delete(c);
    expect(handles(list)).toEqual([]);
    expect(list.size).toBe(0);
  });

  it('ignores a job that is not in it (finished twice, or never added) and takes it again later', () => {
    const list = new RunningJobs();
    const [a, b] = ['H:1', 'H:2'].map(job) as [Job, Job];
    list.add(a);
    list.delete(b);
    list.delete(a);
    list.delete(a);
    expect(list.size).toBe(0);
    list.add(b);
    list.add(a);
    expect(handles(list)).toEqual(['H:2', 'H:1']);
    expect(list.size).toBe(2);
  });

  it('toArray is a copy: unlinking while walking it visits every job once', () => {
    const list = new RunningJobs();
    const all = ['H:1', 'H:2', 'H:3'].map(job);
    for (const j of all) list.add(j);
    const seen: string[] = [];
    for (const j of list.toArray()) {
      seen.push(j.handle);
      list.delete(j);
    }
    expect(seen).toEqual(['H:1', 'H:2', 'H:3']);
    expect(list.size).toBe(0);
  });
});
