/**
 * One k-way pass over sorted string lists: their sorted union without duplicates (invertedindex's
 * reduce). A binary heap of list heads costs O(N log k) for N strings in k lists, where folding
 * the lists pairwise costs O(N k). Order is JS string order (`<`, UTF-16 units), as Array#sort's.
 */

/** The sorted, de-duplicated union of `lists`; a list that is not strictly sorted is sorted first. */
export function mergeSorted(lists: readonly (readonly string[])[]): string[] {
  const sources: (readonly string[])[] = [];
  for (const list of lists) if (list.length > 0) sources.push(isStrictlySorted(list) ? list : [...list].sort());
  if (sources.length === 1) return dedupe(sources[0] as readonly string[]);
  // heap[i] is a list number; pos[list] its next index.
  const pos = new Array<number>(sources.length).fill(0);
  const head = (l: number): string => (sources[l] as readonly string[])[pos[l] as number] as string;
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => head(a) < head(b);
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) return;
      const r = l + 1;
      const c = r < heap.length && less(heap[r] as number, heap[l] as number) ? r : l;
      if (!less(heap[c] as number, heap[i] as number)) return;
      [heap[i], heap[c]] = [heap[c] as number, heap[i] as number];
      i = c;
    }
  };
  for (let l = 0; l < sources.length; l++) heap.push(l);
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const out: string[] = [];
  while (heap.length > 0) {
    const top = heap[0] as number;
    const s = head(top);
    if (out.length === 0 || out[out.length - 1] !== s) out.push(s);
    pos[top] = (pos[top] as number) + 1;
    if ((pos[top] as number) >= (sources[top] as readonly string[]).length) {
      const last = heap.pop() as number;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    down(0);
  }
  return out;
}

function isStrictlySorted(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (!((list[i - 1] as string) < (list[i] as string))) return false;
  return true;
}

function dedupe(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of list) if (out.length === 0 || out[out.length - 1] !== s) out.push(s);
  return out;
}
