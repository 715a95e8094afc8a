#!/usr/bin/env python3
"""Streaming word count mapper (python3, standard library only): one `word<TAB>1` line per word.

Words are what str.split() finds (runs of non-whitespace). Every 1000 lines it adds to a counter
and sets the task's status the Hadoop Streaming way, on stderr.
"""
import sys

lines = 0
for line in sys.stdin:
    lines += 1
    for word in line.split():
        sys.stdout.write(f"{word}\t1\n")
    if lines % 1000 == 0:
        print("reporter:counter:wordcount,lines,1000", file=sys.stderr)
print(f"reporter:counter:wordcount,lines,{lines % 1000}", file=sys.stderr)
print(f"reporter:status:mapped {lines} lines", file=sys.stderr)
