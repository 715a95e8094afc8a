# Word count mapper that counts in memory and writes each word once, `word<TAB>count` (in-mapper
# combining): fewer lines to sort than wordcount-mapper.awk. The mawk program of bench/streaming.
{ for (i = 1; i <= NF; i++) count[$i]++ }
END { for (w in count) print w "\t" count[w] }
