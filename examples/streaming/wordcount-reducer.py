#!/usr/bin/env python3
"""Streaming word count reducer (python3, standard library only).

Its input is `word<TAB>count` lines sorted by word, all lines of one word together, so a word's
total is complete when the next word starts.
"""
import sys

current, total = None, 0
for line in sys.stdin:
    word, _, count = line.rstrip("\n").partition("\t")
    if word != current:
        if current is not None:
            sys.stdout.write(f"{current}\t{total}\n")
        current, total = word, 0
    total += int(count or 1)
if current is not None:
    sys.stdout.write(f"{current}\t{total}\n")
