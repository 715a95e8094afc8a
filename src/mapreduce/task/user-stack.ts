/**
 * The user's side of a stack trace: the first frame in the job's own module (`my-job.ts:6:21`, mapped
 * to the .ts source by tsx's source maps), and the stack trimmed to what helps the user read it.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Stack lines kept in a failure report; the rest are gmr's and Node's own frames. */
const MAX_STACK_LINES = 30;

/** `file:///a/b.ts?namespace=…` or `/a/b.ts` or tsx's `data:…?filePath=%2Fa%2Fb.ts` → `/a/b.ts`. */
function framePath(location: string): { path: string; compiled: boolean } | undefined {
  if (location.startsWith('data:')) {
    const match = /[?&]filePath=([^:?&]+)/.exec(location);
    if (!match?.[1]) return undefined;
    return { path: decodeURIComponent(match[1]).replace(/\?.*$/, ''), compiled: true };
  }
  const bare = location.replace(/\?[^:]*/, '');
  if (bare.startsWith('file://')) {
    try {
      return { path: fileURLToPath(bare), compiled: false };
    } catch {
      return undefined;
    }
  }
  return { path: bare, compiled: false };
}

interface Frame {
  path: string;
  line: number;
  column: number;
  compiled: boolean;
}

/** The frames of a V8 stack: `at fn (location:line:col)` or `at location:line:col`. */
function frames(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const text of stack.split('\n')) {
    const match = /^\s+at (?:.*? \()?(.+):(\d+):(\d+)\)?$/.exec(text);
    if (!match?.[1]) continue;
    const where = framePath(match[1]);
    if (where) out.push({ ...where, line: Number(match[2]), column: Number(match[3]) });
  }
  return out;
}

/**
 * `my-job.ts:6:21`: the first frame of `stack` in one of the job's module files, or undefined when
 * the error did not pass through them. A frame of a module tsx compiled to a data: URL (a .ts file
 * outside an ESM package) has no source map: it is named `my-job.ts (compiled)`.
 */
export function userFrame(stack: string | undefined, modules: readonly string[]): string | undefined {
  if (!stack) return undefined;
  for (const frame of frames(stack)) {
    if (!modules.includes(frame.path)) continue;
    return frame.compiled ? `${basename(frame.path)} (compiled)` : `${basename(frame.path)}:${frame.line}:${frame.column}`;
  }
  return undefined;
}

/** The stack as a user reads it: data: URLs named by their file, at most MAX_STACK_LINES lines. */
export function readableStack(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n').map((line) =>
    line.replace(/data:text\/javascript,[^\s)]*?[?&]filePath=([^:?&\s)]+)[^\s)]*/, (_all, path: string) => `${decodeURIComponent(path).replace(/\?.*$/, '')} (compiled)`),
  );
  return lines.slice(0, MAX_STACK_LINES).join('\n');
}

/** The stack of whatever user code threw (it may throw non-Errors). */
export function stackOf(thrown: unknown): string | undefined {
  return thrown instanceof Error && typeof thrown.stack === 'string' ? thrown.stack : undefined;
}
