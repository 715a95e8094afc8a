# The natural key order of docs/WIRE.md ("Order"), written from the spec alone: reads one
# encoded key (JSON text) per line on stdin and writes them back sorted, one per line.
import functools
import json
import sys


def rank(v):
    if v is None:
        return 0
    if v is False:
        return 1
    if v is True:
        return 2
    if isinstance(v, float):
        return 3
    if isinstance(v, str):
        return 4
    if isinstance(v, list):
        return 5
    return 6


def utf8(s):
    # A lone surrogate (only possible through a \uD8xx escape) counts as U+FFFD.
    return ''.join('\ufffd' if 0xD800 <= ord(c) <= 0xDFFF else c for c in s).encode('utf-8')


def sign(x, y):
    return (x > y) - (x < y)


def compare(a, b):
    ra, rb = rank(a), rank(b)
    if ra != rb:
        return sign(ra, rb)
    if ra == 3:
        return sign(a, b)
    if ra == 4:
        return sign(utf8(a), utf8(b))
    if ra == 5:
        for x, y in zip(a, b):
            c = compare(x, y)
            if c:
                return c
        return sign(len(a), len(b))
    if ra == 6:
        ka = sorted(a, key=utf8)
        kb = sorted(b, key=utf8)
        for x, y in zip(ka, kb):
            c = sign(utf8(x), utf8(y)) or compare(a[x], b[y])
            if c:
                return c
        return sign(len(ka), len(kb))
    return 0


def compare_encoded(ea, eb):
    # Numbers are IEEE 754 doubles: integers are read as floats too.
    c = compare(json.loads(ea, parse_int=float), json.loads(eb, parse_int=float))
    return c or sign(ea.encode('utf-8'), eb.encode('utf-8'))


keys = [line.rstrip('\n') for line in sys.stdin.buffer.read().decode('utf-8').split('\n') if line != '']
for k in sorted(keys, key=functools.cmp_to_key(compare_encoded)):
    sys.stdout.buffer.write(k.encode('utf-8') + b'\n')
