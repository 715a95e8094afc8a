/**
 * Independent reference implementations for job tests: other programs (python3, perl) computing
 * the same answers, so no expected value ever comes from gmr itself.
 */
import { execFileSync } from 'node:child_process';

/**
 * python3 lines that count the words of `text` into `counts` (a Counter) by the documented word
 * definition, from Python's own Unicode data: a maximal run of letters (str.isalpha: categories
 * L*), Nd digits, '_' and "'", then str.lower(). A script sets `text` before them.
 */
export const PYTHON_WORD_COUNTER = `
import unicodedata, collections
isword = lambda ch: ch.isalpha() or unicodedata.category(ch) == 'Nd' or ch in "_'"
counts, word = collections.Counter(), []
for ch in text + ' ':
    if isword(ch):
        word.append(ch)
    elif word:
        counts[''.join(word).lower()] += 1
        word = []
`;

/** word<TAB>count lines sorted by the word's UTF-8 bytes, computed by python3. */
export function referenceWordcount(files: string[]): string {
  const script = `
import re, sys, collections
c = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding='utf-8', newline='') as f:
        text = f.read()
    # Words: maximal runs of letters, digits, '_' and "'" (python's \\w is letters, digits, '_').
    for w in re.findall(r"[\\w']+", text):
        c[w.lower()] += 1
out = sys.stdout.buffer
for w in sorted(c, key=lambda w: w.encode('utf-8')):
    out.write(w.encode('utf-8') + b'\\t' + str(c[w]).encode() + b'\\n')
`;
  return execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 1 << 30 });
}

/** status<TAB>sum of bytes lines of CSV access logs (header line first), sorted by status, by python3. */
export function referenceBytesByStatus(files: string[]): string {
  const script = `
import csv, sys, collections
totals = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding='utf-8', newline='') as f:
        for row in csv.DictReader(f):
            try:
                n = int(row.get('bytes') or '')
            except ValueError:
                n = 0
            totals[row.get('status') or '?'] += n
for status in sorted(totals, key=lambda s: s.encode('utf-8')):
    print(f"{status}\\t{totals[status]}")
`;
  return execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
}

/** path<TAB>length of its longest line (in UTF-16 units, '\\r\\n' as '\\n'), sorted by path, by python3. */
export function referenceLongestLine(files: string[]): string {
  const script = `
import sys
for path in sorted(sys.argv[1:], key=lambda p: p.encode('utf-8')):
    with open(path, encoding='utf-8', newline='') as f:
        lines = f.read().split('\\n')
    if lines[-1] == '':
        lines.pop()
    longest = max(len(l.removesuffix('\\r').encode('utf-16-le')) // 2 for l in lines)
    print(f"{path}\\t{longest}")
`;
  return execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
}
