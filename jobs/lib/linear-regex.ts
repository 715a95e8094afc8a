/**
 * Regular expressions from task params that cannot hold a worker: V8's linear-time engine.
 *
 * A pattern like `^(\w+\s?)*$` backtracks exponentially in V8's default engine (irregexp); one
 * 40-byte line holds a worker forever. V8 also has a linear-time engine (no backtracking), built
 * into Node, so nothing needs a native build (npm's re2 does). With
 * `--enable-experimental-regexp-engine-on-excessive-backtracks` V8 keeps irregexp's speed for the
 * usual patterns and re-runs a match on the linear engine once it backtracks too much. That only
 * helps patterns the linear engine can run, so a pattern it cannot (backreferences, lookaround)
 * is refused up front: compiling it with the `l` flag is the test.
 */
import { setFlagsFromString } from 'node:v8';

let enabled = false;

function enableFallback(): void {
  if (enabled) return;
  // Process-wide, and harmless to other regexes: they only change engine after 50,000 backtracks.
  setFlagsFromString('--enable-experimental-regexp-engine');
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  enabled = true;
}

/**
 * The pattern with its literal letters lower-cased, escapes left alone (`\W`, `\p{Lu}`, `\u{1F600}`
 * keep their meaning): V8's linear engine has no `i` flag, so ignoreCase matches the lower-cased
 * pattern against the lower-cased line instead.
 */
function lowerCasePattern(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c !== '\\') {
      out += c.toLowerCase();
      continue;
    }
    const next = pattern[i + 1] ?? '';
    if ((next === 'p' || next === 'P' || next === 'u' || next === 'x' || next === 'k') && pattern[i + 2] === '{') {
      const close = pattern.indexOf('}', i + 2);
      const end = close < 0 ? pattern.length : close + 1;
      out += pattern.slice(i, end);
      i = end - 1;
    } else if (next === 'u' || next === 'x' || next === 'c') {
      const width = next === 'u' ? 4 : next === 'x' ? 2 : 1;
      out += pattern.slice(i, i + 2 + width);
      i += 1 + width;
    } else {
      out += pattern.slice(i, i + 2);
      i += 1;
    }
  }
  return out;
}

/**
 * A test for the pattern whose time is linear in the line, or an Error saying why the pattern is
 * refused. With ignoreCase the line and the pattern's letters are lower-cased first.
 */
export function linearMatcher(pattern: string, ignoreCase: boolean, unicode = false): (line: string) => boolean {
  enableFallback();
  const source = ignoreCase ? lowerCasePattern(pattern) : pattern;
  const flags = unicode ? 'u' : '';
  // A pattern that does not compile at all says so in V8's own words.
  const regex = new RegExp(source, flags);
  try {
    new RegExp(source, `${flags}l`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (/linear time/i.test(reason)) {
      throw new Error(
        `pattern ${JSON.stringify(pattern)} cannot be matched in linear time (backreferences and lookaround are not supported), so it could hold a worker forever; rewrite it without them`,
      );
    }
    throw new Error(`expected a JavaScript regular expression for pattern, received ${JSON.stringify(pattern)}: ${reason}`);
  }
  return ignoreCase ? (line) => regex.test(line.toLowerCase()) : (line) => regex.test(line);
}
