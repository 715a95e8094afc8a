/**
 * Compile-time checks of the job API's types: this file only has to type-check (tsc covers
 * test/ through vitest's transform-free run; the negative cases sit in a function never called).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineJob, step } from 'gmr';
import type { JobDefinition, MapContext, ReduceContext } from 'gmr';
import hours from '../../fixtures/jobs/hours.ts';
import top3 from '../../fixtures/jobs/top3.ts';

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

  it('hands the state mapSetup and reduceSetup return, typed, to every call and to teardown', () => {
    const job = defineJob({
      mapSetup: () => ({ seen: new Map<string, number>() }),
      map(line: string, _ctx: MapContext<string, number>, state) {
        expectTypeOf(state).toEqualTypeOf<{ seen: Map<string, number> }>();
        state.seen.set(line, (state.seen.get(line) ?? 0) + 1);
      },
      mapTeardown(ctx, state) {
        for (const [word, n] of state.seen) ctx.emit(word, n);
      },
      reduceSetup: () => ({ total: 0 }),
      reduce(word: string, counts: number[], ctx, state) {
        expectTypeOf(state).toEqualTypeOf<{ total: number }>();
        state.total += counts.length;
        ctx.emit(word, counts.length);
      },
      reduceTeardown(ctx, state) {
        ctx.emit('(total)', state.total);
      },
    });
    expectTypeOf(job).toEqualTypeOf<JobDefinition<string, string, number, number, string, { seen: Map<string, number> }, { total: number }>>();
  });

  it('accepts the acceptance examples as written (test/fixtures/jobs/top3.ts: inline steps; hours.ts: numeric keys)', () => {
    expect(top3.steps.length).toBe(2);
    expectTypeOf(hours).toEqualTypeOf<JobDefinition<{ hour: number }, number, number, number>>();
  });

  it('checks the links between steps made with step()', () => {
    const job = defineJob({
      steps: [
        step({
          map(line: string, ctx) { ctx.emit(line, 1); },
          reduce(word: string, counts: number[], ctx: ReduceContext<string, number>) { ctx.emit(word, counts.length); },
        }),
        step({
          map([word, n]: [string, number], ctx: MapContext<number, string>) { ctx.emit(n, word); },
          reduce: (n: number, words: string[]) => words.join(' ') || String(n),
        }),
      ],
      format: (n, words) => `${n}: ${words}`,
    });
    expect(job.steps.length).toBe(2);
  });

  it('lets the value be left out when its type allows undefined', () => {
    const job = defineJob<string, string, undefined>({
      map: (line, ctx) => ctx.emit(line),
    });
    expect(job.map).toBeTypeOf('function');
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
  defineJob<string, string, number>({
    // @ts-expect-error the value may only be left out when V allows undefined
    map: (line, ctx) => ctx.emit(line),
  });
  defineJob<string, string, number, string>({
    map: () => undefined,
    // @ts-expect-error reduce must return Out (string) or undefined
    reduce: (_key, values) => values.length,
  });
  defineJob({
    mapSetup: () => ({ n: 0 }),
    map(_line: string, _ctx, state) {
      // @ts-expect-error the state is { n: number }, it has no m
      state.m = 1;
    },
  });
  // Inferred: V cannot be both number (map) and string (combine); TypeScript reports it on map.
  defineJob({
    // @ts-expect-error a combiner over strings does not fit map's number values
    map(line: string, ctx: MapContext<string, number>) {
      ctx.emit(line, 1);
    },
    combine: (a: string, b: string): string => a + b,
  });
  defineJob({
    // @ts-expect-error step 2's map takes [number, string] but step 1 emits [string, number]
    steps: [
      step({
        map(line: string, ctx) { ctx.emit(line, 1); },
        reduce(word: string, counts: number[], ctx: ReduceContext<string, number>) { ctx.emit(word, counts.length); },
      }),
      step({
        map([n, word]: [number, string], ctx: MapContext<string, number>) { ctx.emit(word, n); },
      }),
    ],
  });
}
