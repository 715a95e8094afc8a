#!/usr/bin/perl
# Streaming word count reducer in Perl: sums `word<TAB>count` lines, which arrive sorted by word
# (all lines of one word together). Works after any of the mappers here.
use strict;
use warnings;

my ($current, $total);
while (my $line = <STDIN>) {
    chomp $line;
    my ($word, $count) = split /\t/, $line, 2;
    $count = 1 unless defined $count && length $count;
    if (!defined $current || $word ne $current) {
        print "$current\t$total\n" if defined $current;
        ($current, $total) = ($word, 0);
    }
    $total += $count;
}
print "$current\t$total\n" if defined $current;
