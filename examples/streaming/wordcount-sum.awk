# Word count reducer (or combiner) for awk: sums `word<TAB>count` lines. It does not need its
# input sorted, so it works for `parallel --pipepart` too (bench/streaming).
BEGIN { FS = "\t" }
{ sum[$1] += ($2 == "" ? 1 : $2) }
END { for (w in sum) print w "\t" sum[w] }
