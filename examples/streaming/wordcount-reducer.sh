#!/bin/sh
# Streaming word count reducer in plain shell tools: its input is sorted by key, so `uniq -c`
# counts each word's lines; printed back as word<TAB>count.
uniq -c | while read -r count word; do printf '%s\t%s\n' "$word" "$count"; done
