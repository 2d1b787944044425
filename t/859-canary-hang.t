#!/usr/bin/perl
# A metrics endpoint that accepts connections and never answers: each look
# times out after query_timeout with a log line saying so, and the stage
# fails after max_errors such looks (never a pass), well within its time.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'hang');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=60', 'interval=1', 'query_timeout=1', 'max_errors=3');
diag($r->{log}) unless is($r->{exit}, 1, 'the stage failed');
like($r->{log}, qr/found no data: Timeout was reached: Operation timed out after \d+ milliseconds/,
    'each look says it timed out');
like($r->{detail}, qr/no usable metrics \(Timeout was reached/, "detail: $r->{detail}");
cmp_ok($r->{seconds}, '<', 15, sprintf('gave up after %.1f s', $r->{seconds}));
done_testing;
