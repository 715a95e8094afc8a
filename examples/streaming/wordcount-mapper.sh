#!/bin/sh
# Streaming word count mapper in plain shell tools: one word per line. A line without a TAB is a
# key with an empty value, so the reducer (wordcount-reducer.sh) just counts its lines per key.
tr -s '[:space:]' '\n' | sed '/^$/d'
