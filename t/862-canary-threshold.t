#!/usr/bin/perl
# scap's fixed threshold: the canaries' errors since the check began are
# compared with a threshold. At the base rate (2 canaries x 3/s x 10 s = 60
# expected; threshold 60 + 3 sigma = 84) the check passes when the window
# ends; at 3x the count reaches the threshold before it and the check
# fails at once, with the count and the threshold in the detail.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'good');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'judge=threshold', 'window=10', 'threshold=84', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 0, 'base rate: passed');
like($r->{detail}, qr/passed: \d+ canary errors in \d+ s, below the threshold of 84/, "detail: $r->{detail}");
like($r->{log}, qr/threshold judge at [\d.]+ s of 10 s: canary \d+ errors .*statistic: canary errors \d+, fails at >= 84/,
    'each look logs the count and the threshold');

$d = SP::MetricsDouble->new(scenario => 'bad');
$r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'judge=threshold', 'window=10', 'threshold=84', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, '3x: failed');
like($r->{detail}, qr/failed after \d+ s: \d+ canary errors reached the threshold of 84/, "detail: $r->{detail}");
cmp_ok($r->{seconds}, '<', 10, 'before the window ended');
done_testing;
