#!/usr/bin/perl
# Sparse data never passes. A canary going from 1 error/s to 5 errors/s
# (the other hosts staying at 1/s) is caught by the sequential test; a
# fleet without any error gives neither e-value anything to move on, and
# the judge fails as inconclusive when the window ends instead of passing.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'sparse_bad');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=60', 'min_window=20', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, 'sparse 1/s -> 5/s: failed');
# Over a second or two the others may have had no error yet (4 a second
# between them): the detail then says so instead of giving a ratio.
like($r->{detail}, qr/canary error rate [\d.]+x the others'|canary errors \(.*\) while the others had none/,
    "the detail: $r->{detail}");
cmp_ok($r->{seconds}, '<', 30, sprintf('within %.1f s', $r->{seconds}));

$d = SP::MetricsDouble->new(scenario => 'quiet');
$r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=8', 'min_window=2', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, 'no errors at all: not a pass');
like($r->{detail}, qr/inconclusive after \d+ s .*sparse data never passes/,
    "the detail: $r->{detail}");
done_testing;
