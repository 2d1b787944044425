#!/usr/bin/perl
# The canary judge on Prometheus: canaries answering errors at 3x the
# other hosts' rate fail the sequential test within seconds, long before
# the window ends, and the detail (the rollback's reason) gives the rate
# ratio, the counts and the e-value against its bound.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'bad');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=60', 'min_window=20', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, 'the stage failed');
like($r->{detail}, qr/canary check failed after \d+ s: canary error rate [\d.]+x the others' \(\d+ errors\/\d+ requests vs \d+\/\d+; e-value \S+ >= 100\)/,
    "the detail says why: $r->{detail}");
cmp_ok($r->{seconds}, '<', 20, sprintf('stopped early (%.1f s)', $r->{seconds}));
like($r->{log}, qr/canary: verdict fail: /, 'the verdict is in the log');
is($r->{samples}[-1]{verdict}, 'fail', 'and in the last sample');
done_testing;
