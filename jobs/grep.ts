/**
 * grep: the lines that match a regular expression (map-only, in input order per split).
 * Params: pattern (required, a JavaScript RegExp source), ignoreCase=true (optional). The pattern
 * runs in linear time (lib/linear-regex.ts): one that could backtrack forever is refused.
 * Output: `path:line:text`, path relative to the current directory when the file is under it
 * (else absolute), line the 1-based line number.
 */

import { defineJob } from 'gmr';
import { displayPath } from './lib/display-path.ts';
import { linearMatcher } from './lib/linear-regex.ts';

interface GrepState {
  matches: (line: string) => boolean;
  prefix: string;
}

export default defineJob<string, string, string, string, string, GrepState>({
  lineNumbers: true,
  description: 'Print the lines matching --param pattern=REGEX (ignoreCase=true to fold case); output path:line:text',
  params: {
    pattern: {
      description: 'JavaScript regular expression to search for (no backreferences or lookaround: matching runs in linear time)',
      required: true,
    // A pattern that does not compile, or could not be matched in linear time, fails the run
    // before any task starts, as a usage error.
      validate: (pattern) => void linearMatcher(String(pattern), false),
    },
    ignoreCase: { description: 'true to match case-insensitively (the line and the pattern\'s letters lower-cased)', type: 'boolean', default: false },
  },
  mapSetup(ctx) {
    const matches = linearMatcher(String(ctx.params['pattern'] ?? ''), ctx.params['ignoreCase'] === true);
    return { matches, prefix: `${displayPath(ctx.split.path)}:` };
  },
  map(line, ctx, state) {
    if (state.matches(line)) ctx.emit(`${state.prefix}${ctx.position.line}`, line);
  },
  format: (where, line) => `${where}:${line}`,
});
