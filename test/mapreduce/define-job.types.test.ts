/**
 * Compile-time checks of the job API's types: this file only has to type-check (tsc covers
 * test/ through vitest's transform-free run; the negative cases sit in a function never called).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineJob } from 'gmr';
import type { JobDefinition, MapContext, ReduceContext } from 'gmr';

describe('defineJob types', () => {
  it('infers key, value and output types from map, combine and reduce', () => {
    const job = defineJob({
      map(line: string, ctx: MapContext<string, number>) {
        ctx.emit(line, line.length);
      },
      combine: (a, b) => a + b,
      reduce: (key, values) => ({ key, total: values.reduce((x, y) => x + y, 0) }),
      format: (key, out) => `${key}=${out.total}`,
    });
    expectTypeOf(job).toEqualTypeOf<JobDefinition<string, string, number, { key: string; total: number }>>();
    expect(job.map).toBeTypeOf('function');
  });

  it('lets setup and teardown emit in a map task only', () => {
    const job = defineJob<string, string, number>({
      map: () => undefined,
      teardown(ctx) {
        expectTypeOf(ctx).toEqualTypeOf<MapContext<string, number> | ReduceContext>();
        if ('emit' in ctx) ctx.emit('total', 1);
      },
    });
    expect(job.teardown).toBeTypeOf('function');
  });
});

// Never called: each line below must be a compile error.
export function typeErrors(): void {
  defineJob<string, string, number>({
    map: (line, ctx) => ctx.emit(line, 1),
    // @ts-expect-error combine must take and return the emitted value type (number)
    combine: (a: string, b: string) => a + b,
  });
  defineJob<string, string, number>({
    // @ts-expect-error emit takes (string, number)
    map: (line, ctx) => ctx.emit(line, line),
  });
  defineJob<string, string, number, string>({
    map: () => undefined,
    // @ts-expect-error reduce must return Out (string) or undefined
    reduce: (_key, values) => values.length,
  });
  // Inferred: V cannot be both number (map) and string (combine); TypeScript reports it on map.
  defineJob({
    // @ts-expect-error a combiner over strings does not fit map's number values
    map(line: string, ctx: MapContext<string, number>) {
      ctx.emit(line, 1);
    },
    combine: (a: string, b: string): string => a + b,
  });
}
