/** The broker's table of live jobs by handle: lookups, collisions, growth and shrinking, creation order. */
import { describe, expect, it } from 'vitest';
import { JobTable } from '../../src/server/job-table.ts';
import { FunctionRecord, Job, PRIORITY_NORMAL } from '../../src/server/records.ts';

const fn = new FunctionRecord('f');
const job = (handle: string): Job =>
  new Job({ handle, fn, unique: '', key: undefined, data: Buffer.alloc(0), reducer: '', priority: PRIORITY_NORMAL, background: false, when: 0 });

describe('JobTable', () => {
  it('finds each job by its handle, including handles that hash alike or end in no digits', () => {
    const table = new JobTable();
    // Same trailing digits (one bucket), 1024 apart (same bucket in 1,024 buckets), no digits at all.
    const jobs = ['H:a:5', 'H:b:5', 'H:a:1029', 'plain', 'other', '', '99999999999999999999'].map(job);
    for (const j of jobs) table.add(j);
    for (const j of jobs) expect(table.get(j.handle)).toBe(j);
    expect(table.get('H:a:6')).toBeUndefined();
    expect(table.get('H:c:5')).toBeUndefined();
    expect(table.size).toBe(jobs.length);
  });

  it('delete removes that job only, once, and the others stay found', () => {
    const table = new JobTable();
    const [a, b, c] = ['X:7', 'Y:7', 'Z:7'].map(job) as [Job, Job, Job];
    for (const j of [a, b, c]) table.add(j);
    const twin = job('Y:7'); // same handle, not in the table
    expect(table.delete(twin)).toBe(false);
    expect(table.delete(b)).toBe(true);
    expect(table.delete(b)).toBe(false);
    expect(table.get('Y:7')).toBeUndefined();
    expect(table.get('X:7')).toBe(a);
    expect(table.get('Z:7')).toBe(c);
    expect(table.size).toBe(2);
  });

  it('grows past its first buckets and shrinks back, keeping every job and creation order', () => {
    const table = new JobTable();
    const all = Array.from({ length: 5000 }, (_, i) => job(`H:host:${i + 1}`));
    for (const j of all) table.add(j);
    expect(table.size).toBe(5000);
    for (const j of all) expect(table.get(j.handle)).toBe(j);
    expect(table.values().map((j) => j.handle)).toEqual(all.map((j) => j.handle));
    // Remove all but every 100th: the table shrinks; what is left is still found, in order.
    const kept = all.filter((_, i) => i % 100 === 0);
    for (const [i, j] of all.entries()) if (i % 100 !== 0) expect(table.delete(j)).toBe(true);
    expect(table.size).toBe(kept.length);
    for (const j of kept) expect(table.get(j.handle)).toBe(j);
    for (const j of all.filter((_, i) => i % 100 !== 0)) expect(table.get(j.handle)).toBeUndefined();
    expect(table.values().map((j) => j.handle)).toEqual(kept.map((j) => j.handle));
  });

  it('values() lists in the order jobs were added, whatever their handles, and is a copy', () => {
    const table = new JobTable();
    const jobs = ['H:9', 'H:1', 'zzz', 'H:5'].map(job);
    for (const j of jobs) table.add(j);
    const listed = table.values();
    expect(listed.map((j) => j.handle)).toEqual(['H:9', 'H:1', 'zzz', 'H:5']);
    for (const j of listed) table.delete(j);
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
  });

  it('clear() empties it and it takes jobs again', () => {
    const table = new JobTable();
    const [a, b] = ['H:1', 'H:2'].map(job) as [Job, Job];
    table.add(a);
    table.add(b);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get('H:1')).toBeUndefined();
    table.add(b);
    expect(table.get('H:2')).toBe(b);
    expect(table.values()).toEqual([b]);
  });

  it('getBytes finds the job its ASCII handle bytes spell, anywhere in a buffer, and nothing else', () => {
    const table = new JobTable();
    const jobs = ['H:a:5', 'H:b:5', 'H:a:1029', 'plain', 'H:\u00e9:7'].map(job);
    for (const j of jobs) table.add(j);
    // Each handle between other bytes, as it sits in a frame: found by the range, not the buffer.
    for (const j of jobs.slice(0, 4)) {
      const buf = Buffer.concat([Buffer.from('\0junk:5'), Buffer.from(j.handle, 'latin1'), Buffer.from('\0tail')]);
      expect(table.getBytes(buf, 7, 7 + j.handle.length)).toBe(j);
    }
    const at = (text: string, encoding: BufferEncoding = 'latin1'): Job | undefined => {
      const buf = Buffer.from(text, encoding);
      return table.getBytes(buf, 0, buf.length);
    };
    // Same digits, other prefix; a prefix or extension of a handle; an empty range.
    expect(at('H:c:5')).toBeUndefined();
    expect(at('H:a:')).toBeUndefined();
    expect(at('H:a:50')).toBeUndefined();
    expect(at('')).toBeUndefined();
    // Non-ASCII handles are left to get() (the caller decodes them): neither the UTF-8 bytes nor the Latin-1 byte match here.
    expect(at('H:\u00e9:7', 'utf8')).toBeUndefined();
    expect(at('H:\u00e9:7', 'latin1')).toBeUndefined();
    expect(table.get('H:\u00e9:7')).toBe(jobs[4]);
  });
});
