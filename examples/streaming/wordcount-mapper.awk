# Streaming word count mapper for awk (mawk, gawk, busybox): one `word<TAB>1` line per word.
# Fields are awk's default: runs of blanks separate words.
{ for (i = 1; i <= NF; i++) print $i "\t1" }
