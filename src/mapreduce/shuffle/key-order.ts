/**
 * Natural key order (wire version 2): how encoded keys (and, with sortValues, encoded values) sort
 * in every run, in every reduce merge and on stdout. docs/WIRE.md specifies the same order, with
 * test vectors, for workers in other languages.
 *
 * The JSON text is decoded and compared by value:
 * - types rank null < false < true < numbers < strings < arrays < objects;
 * - numbers by their IEEE 754 double value (as JSON.parse reads them);
 * - strings by their UTF-8 bytes (a lone surrogate counts as U+FFFD), i.e. code point order;
 * - arrays element by element, a proper prefix first;
 * - objects as the list of their members sorted by name (string order): name, then value, member
 *   by member, fewer members first when one list is a prefix of the other;
 * - texts equal by value but not byte for byte (`1` and `1.0`, `"A"` and `"\u0041"`) by their
 *   bytes, so that the order is total and equal keys (equal bytes) are adjacent.
 */
import { compareUtf8 } from './encoding.ts';

const NULL_RANK = 0;
const FALSE_RANK = 1;
const TRUE_RANK = 2;
const NUMBER_RANK = 3;
const STRING_RANK = 4;
const ARRAY_RANK = 5;
const OBJECT_RANK = 6;

function rank(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return NUMBER_RANK;
    case 'string':
      return STRING_RANK;
    case 'boolean':
      return value ? TRUE_RANK : FALSE_RANK;
    case 'object':
      if (value === null) return NULL_RANK;
      return Array.isArray(value) ? ARRAY_RANK : OBJECT_RANK;
    default:
      // undefined, functions: JSON carries them as null (or not at all).
      return NULL_RANK;
  }
}

/** Compares two decoded JSON values in natural order (without the byte tie-break). */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === ARRAY_RANK) return compareLists(a as unknown[], b as unknown[]);
  if (ra === OBJECT_RANK) return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
  return 0;
}

function compareLists(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort(compareUtf8);
  const kb = Object.keys(b).sort(compareUtf8);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const name = compareUtf8(ka[i] as string, kb[i] as string);
    if (name !== 0) return name;
    const value = compareValues(a[ka[i] as string], b[kb[i] as string]);
    if (value !== 0) return value;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/**
 * What an encoded key sorts by: a JSON string without escapes is its inside (no parse needed, the
 * hot case); anything else is parsed. Throws SyntaxError for text that is not JSON.
 */
export function orderValue(encoded: string): unknown {
  if (encoded.length >= 2 && encoded.charCodeAt(0) === 0x22 && encoded.indexOf('\\') === -1) {
    return encoded.slice(1, -1);
  }
  return JSON.parse(encoded) as unknown;
}

/** Natural order of two encoded texts whose order values are already known; bytes break ties. */
export function compareOrdered(encA: string, valueA: unknown, encB: string, valueB: unknown): number {
  if (encA === encB) return 0;
  return compareValues(valueA, valueB) || compareUtf8(encA, encB);
}

/** Natural order of two encoded keys (or values). */
export function compareEncoded(a: string, b: string): number {
  if (a === b) return 0;
  return compareValues(orderValue(a), orderValue(b)) || compareUtf8(a, b);
}
