/**
 * Independent reference implementations for job tests: other programs (python3, perl) computing
 * the same answers, so no expected value ever comes from gmr itself.
 */
import { execFileSync } from 'node:child_process';

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
