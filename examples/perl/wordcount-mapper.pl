#!/usr/bin/perl
# A map worker for gmr's built-in wordcount job, written in Perl with Gearman::Worker, to show that
# a worker in another language can take part in a gmr run (docs/WIRE.md is the contract).
#
#   GMR_SECRET=... perl examples/perl/wordcount-mapper.pl 127.0.0.1:4730 [more servers...]
#
# It serves gmr.map.wordcount: reads the split named in the payload (shared filesystem) or the
# shipped bytes, counts words (maximal runs of Unicode letters, digits, _ and ', lower-cased),
# and streams sorted partials per partition as WORK_DATA frames, then a JSON summary. With the run
# secret in GMR_SECRET it runs only tasks the driver signed and signs its results (docs/WIRE.md,
# "Signatures"); GMR_INSECURE=1 instead runs unsigned tasks of a driver started with --insecure.
use strict;
use warnings;
use Gearman::Worker;
use JSON::PP;
use Encode qw(decode encode);
use Digest::SHA qw(hmac_sha256_hex);

my @servers = @ARGV ? @ARGV : ('127.0.0.1:4730');
my $json = JSON::PP->new->canonical;
my $secret = $ENV{GMR_SECRET};
if (defined $secret) {
    $secret =~ s/\A\s+|\s+\z//g;
} elsif (!$ENV{GMR_INSECURE}) {
    die "wordcount-mapper.pl needs the run secret in GMR_SECRET (or GMR_INSECURE=1 for a driver started with --insecure)\n";
}

# The signed part of a payload: "<64 hex>\n" then the header line and body, HMAC-SHA256 over
# "gmr-task-v3\n" and that part. A payload that does not verify is refused, and not looked at.
sub verified_payload {
    my ($payload) = @_;
    return $payload unless defined $secret;
    die "refused an unsigned task\n" unless $payload =~ /\A([0-9a-f]{64})\n/;
    my ($mac, $signed) = ($1, substr($payload, 65));
    die "refused a task whose signature does not verify\n" unless hmac_sha256_hex("gmr-task-v3\n" . $signed, $secret) eq $mac;
    return $signed;
}

# FNV-1a 32-bit over bytes.
sub fnv1a {
    my ($bytes) = @_;
    my $h = 2166136261;
    for my $c (unpack('C*', $bytes)) {
        $h ^= $c;
        $h = ($h * 16777619) % 4294967296;
    }
    return $h;
}

# The records (lines) a split owns, Hadoop style: skip the partial first line unless at offset 0,
# read past the end to finish the last line.
sub split_lines {
    my ($path, $offset, $length) = @_;
    open(my $fh, '<:raw', $path) or die "cannot open $path: $!\n";
    my $pos = $offset;
    if ($offset > 0) {
        seek($fh, $offset - 1, 0);
        my $skipped = <$fh>;
        $pos = $offset - 1 + (defined $skipped ? length($skipped) : 0);
    }
    my @lines;
    while ($pos < $offset + $length) {
        my $line = <$fh>;
        last unless defined $line;
        $pos += length($line);
        push @lines, $line;
    }
    close($fh);
    return \@lines;
}

sub map_task {
    my ($worker, $job) = @_;
    my $payload = verified_payload(${ $job->argref });
    my $nl = index($payload, "\n");
    my $header = $json->decode(substr($payload, 0, $nl < 0 ? length($payload) : $nl));
    die "wire version $header->{v} not supported\n" unless $header->{v} == 4;
    # The result MAC covers every WORK_DATA frame, length-prefixed, then "C\n" and the summary.
    my $stream = "gmr-result-v3\n" . encode('UTF-8', $header->{unique}) . "\n";
    my $send = sub {
        my ($frame) = @_;
        $stream .= length($frame) . "\n" . $frame;
        $worker->send_work_data($job, $frame);
    };
    # Small files grouped into one task come as a list of whole files (docs/WIRE.md, splits).
    my @splits = $header->{splits} ? @{ $header->{splits} } : ($header->{split});
    die "compressed input is not supported by this example\n" if grep { $_->{compressed} } @splits;
    my $length = 0;
    $length += $_->{length} for @splits;
    my $lines;
    if ($header->{shipped}) {
        my $body = substr($payload, $nl + 1);
        $lines = [ split(/(?<=\n)/, $body) ];
    } else {
        $lines = [ map { @{ split_lines($_->{path}, $_->{offset}, $_->{length}) } } @splits ];
    }
    $send->("B perl-$$-" . int(rand(1e9)) . "\n");
    my (%count, $records);
    for my $raw (@$lines) {
        $records++;
        my $line = decode('UTF-8', $raw);
        $line =~ s/\r?\n\z//;
        $count{ lc $1 }++ while $line =~ /([\p{L}\p{Nd}_']+)/g;
    }
    my $partitions = $header->{partitions};
    my @parts = map { [] } 1 .. $partitions;
    for my $word (keys %count) {
        my $bytes = encode('UTF-8', $word);
        my $key = qq{"$bytes"};    # JSON of a word: no character needs escaping
        push @{ $parts[ fnv1a($key) % $partitions ] }, [ $key, $count{$word}, $bytes ];
    }
    my @partition_records;
    for my $p (0 .. $partitions - 1) {
        # Natural order (docs/WIRE.md "Order"): string keys by their UTF-8 bytes.
        my @sorted = sort { $a->[2] cmp $b->[2] } @{ $parts[$p] };
        push @partition_records, scalar @sorted;
        next unless @sorted;
        $send->("P $p\n" . join('', map { "$_->[0]\t$_->[1]\n" } @sorted));
    }
    $job->set_status($length, $length);
    my $summary = $json->encode({
        records => $records // 0,
        emitted => scalar(keys %count),
        bytesRead => $length,
        counters => {},
        partitionRecords => \@partition_records,
        worker => 'perl',
    });
    return $summary unless defined $secret;
    return hmac_sha256_hex($stream . "C\n" . $summary, $secret) . "\n" . $summary;
}

my $worker = Gearman::Worker->new(job_servers => \@servers);
$worker->register_function('gmr.map.wordcount' => sub { map_task($worker, @_) });
$| = 1;
print STDERR "perl wordcount mapper ready on @servers\n";
$worker->work while 1;
