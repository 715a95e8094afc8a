/**
 * mergeSorted (invertedindex's reduce) gives what sorting and de-duplicating the concatenation
 * gives, for many lists, unsorted and duplicate-laden ones included.
 */
import { describe, expect, it } from 'vitest';
import { mergeSorted } from '../../../jobs/lib/merge-sorted.ts';
import { mulberry32 } from '../../helpers/random.ts';

/** The reference: a Set and a plain sort, no merge. */
function reference(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

describe('mergeSorted', () => {
  it('merges hundreds of sorted lists with overlaps in one pass', () => {
    const rand = mulberry32(21);
    const lists: string[][] = [];
    for (let k = 0; k < 500; k++) {
      const list = new Set<string>();
      const n = Math.floor(rand() * 20);
      for (let i = 0; i < n; i++) list.add(`f${Math.floor(rand() * 300)}.txt`);
      lists.push([...list].sort());
    }
    const merged = mergeSorted(lists);
    expect(merged.length).toBeGreaterThan(100);
    expect(merged).toEqual(reference(lists));
  });

  it('sorts and de-duplicates lists that are not strictly sorted, and handles empty input', () => {
    expect(mergeSorted([['b', 'a', 'b'], [], ['c', 'a']])).toEqual(['a', 'b', 'c']);
    expect(mergeSorted([['x', 'x']])).toEqual(['x']);
    expect(mergeSorted([])).toEqual([]);
    expect(mergeSorted([['é', 'e'], ['z', '日本']])).toEqual(reference([['é', 'e'], ['z', '日本']]));
  });
});
