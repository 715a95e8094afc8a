/**
 * grep's patterns cannot hold a worker: `^(\w+\s?)*$` on 39 letters and "!" (2^39 backtracking
 * steps in V8's default engine) is answered at once, the answers agree with Python's re on
 * patterns both can run, and a pattern that cannot run in linear time is refused.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { linearMatcher } from '../../jobs/lib/linear-regex.ts';

const LINE = `${'a'.repeat(39)}!`;

describe('linearMatcher', () => {
  it('answers the pathological pattern at once, as a hand-checked reference says', () => {
    expect(linearMatcher('^(\\w+\\s?)*$', false)(LINE)).toBe(false);
    expect(linearMatcher('^(\\w+\\s?)*!$', false)(LINE)).toBe(true);
  });

  it('agrees with python3 re, case folded or not', () => {
    const cases: Array<[string, boolean, string]> = [['caf[ée]', false, 'un café'], ['CAF[ÉE]', true, 'un café'], ['\\Wx', true, ' X'], ['^the (ok|école)', true, 'The École']];
    for (const [pattern, fold, line] of cases) {
      const python = execFileSync('python3', ['-c', 'import re,sys; print(bool(re.search(sys.argv[1], sys.argv[3], re.I if sys.argv[2] == "1" else 0)))', pattern, fold ? '1' : '0', line], { encoding: 'utf8' }).trim();
      expect(String(linearMatcher(pattern, fold)(line)), pattern).toBe(python === 'True' ? 'true' : 'false');
    }
  });

  it('refuses backreferences, and reports a pattern that does not compile in V8\'s words', () => {
    expect(() => linearMatcher('(a)\\1', false)).toThrow('pattern "(a)\\\\1" cannot be matched in linear time (backreferences and lookaround are not supported), so it could hold a worker forever');
    expect(() => linearMatcher('(', false)).toThrow('Invalid regular expression: /(/: Unterminated group');
  });
});
