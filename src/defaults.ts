/** Options over defaults, where an option given as `undefined` means "the default", as if absent. */

/** The defaults' keys hold a value; the other options keep their own types. */
export type WithDefaults<D, O> = Omit<O, keyof D> & { [K in keyof D]: K extends keyof O ? Exclude<O[K], undefined> | D[K] : D[K] };

/**
 * `{ ...defaults, ...options }`, except that an own property of `options` whose value is
 * `undefined` does not hide its default: `new Client({ maxInFlight: undefined })` gets 1000.
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O | undefined): WithDefaults<D, O> {
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults)) merged[key] = value;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as WithDefaults<D, O>;
}
