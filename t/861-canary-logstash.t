#!/usr/bin/perl
# The canary judge on a log store counting error documents (logstash's
# _search with hits.total.value, as scap asks): with hosts x seconds as the
# exposure, canaries at the others' rate pass and canaries at 3x fail.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'good');
my $r = SP::Judge::run('canary', SP::Judge::logstash_keys($d->url),
    'window=40', 'min_window=6', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 0, 'same rate: passed');
like($r->{log}, qr/on \S+\/logstash-\*\/_search \(logstash\)/, 'the log names the source');

$d = SP::MetricsDouble->new(scenario => 'bad');
$r = SP::Judge::run('canary', SP::Judge::logstash_keys($d->url),
    'window=60', 'min_window=20', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, '3x: failed');
like($r->{detail}, qr/canary error rate [\d.]+x the others' \(\d+ errors\/\d+ host-seconds vs/, "detail: $r->{detail}");
done_testing;
