#!/usr/bin/perl
# A canary failing while the other hosts have no error at all gets a
# detail a deployer can read: the canaries' count against "no error on the
# others", never a ratio of "inf" or "nan".
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'canary_only');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=60', 'min_window=20', 'interval=1');
diag($r->{log}) unless is($r->{exit}, 1, 'errors on the canaries only: failed');
unlike($r->{detail} // '', qr/\b(?:inf|nan)(?:x|\b)/i, "no inf or nan: $r->{detail}");
like($r->{detail} // '',
    qr/canary errors? \(\d+ errors\/\d+ requests\) while the others had none/,
    'the detail names the canaries\' errors and the others\' none');
done_testing;
