#!/usr/bin/perl
# The canary judge on Prometheus: canaries with the same error rate as the
# other hosts (3 errors/s per host) pass the sequential test once its
# "not 2x worse" e-value crosses 1/beta, after warmup and min_window and before the
# window ends; every look writes its window, counts, rates and e-values
# into the log and a sample for the chart.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'good');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=40', 'min_window=6', 'interval=1', 'warmup=1');
diag($r->{log}) unless is($r->{exit}, 0, 'the stage passed');
like($r->{detail}, qr/canary check passed after \d+ s: the canaries are not 2x worse/,
    'the detail says why');
like($r->{log}, qr/canary: waiting 1 s for the metrics to catch up with the sync before the first look/, 'the warmup is in the log');
cmp_ok($r->{seconds}, '>=', 7, 'not before warmup and min_window');
cmp_ok($r->{seconds}, '<', 40, 'before the window ended');
like($r->{log}, qr/sequential judge at [\d.]+ s of 40 s: canary \d+ errors in \d+ requests \([\d.]+%\), others \d+ errors in \d+ requests \([\d.]+%\); rate ratio [\d.]+; statistic: e-value \S+ against 'no worse' \(fails at >= 100\)/,
    'each look logs the window, counts, rates and the statistic');
ok(@{ $r->{samples} } >= 6, scalar(@{ $r->{samples} }) . ' samples recorded');
is($r->{samples}[-1]{verdict}, 'pass', 'the last sample carries the verdict');
is($r->{samples}[0]{judge}, 'sequential', 'samples name the judgement');
done_testing;
