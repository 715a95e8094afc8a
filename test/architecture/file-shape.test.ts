/**
 * Code files read as ../shared/STYLE.md asks: each opens with a header comment that says what it
 * holds, and none is longer than 400 lines (a longer one holds more than one concept). Checked on
 * this repository's src/ and jobs/ and, so the check can fail, on hand-made texts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gmr-cli.ts';

const MAX_LINES = 400;

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFilesUnder(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** What is wrong with one file's text: no header comment, or too many lines. */
function shapeProblems(name: string, text: string): string[] {
  const problems: string[] = [];
  if (!/^(\/\*\*|\/\/)/.test(text)) problems.push(`${name}: does not open with a header comment`);
  const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  if (lines > MAX_LINES) problems.push(`${name}: ${lines} lines (at most ${MAX_LINES})`);
  return problems;
}

describe('the shape of code files', () => {
  it('finds a missing header and a file over 400 lines in hand-made texts', () => {
    expect(shapeProblems('ok.ts', '/** One thing. */\nexport const a = 1;\n')).toEqual([]);
    expect(shapeProblems('bare.ts', 'export const a = 1;\n')).toEqual(['bare.ts: does not open with a header comment']);
    expect(shapeProblems('long.ts', `// Long.\n${'x;\n'.repeat(400)}`)).toEqual(['long.ts: 401 lines (at most 400)']);
    expect(shapeProblems('edge.ts', `// Edge.\n${'x;\n'.repeat(399)}`)).toEqual([]);
  });

  it('holds for every .ts file in src/ and jobs/', () => {
    const files = ['src', 'jobs'].flatMap((dir) => tsFilesUnder(join(REPO_ROOT, dir)));
    expect(files.length).toBeGreaterThan(100);
    const problems = files.flatMap((path) => shapeProblems(relative(REPO_ROOT, path), readFileSync(path, 'utf8')));
    expect(problems).toEqual([]);
  });
});
