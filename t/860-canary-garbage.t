#!/usr/bin/perl
# A metrics endpoint answering 200 with a body that is not the documented
# JSON (an HTML error page) fails the stage with a clear line, from either
# source; it is never read as a count.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'garbage');
for my $src (['prometheus', \&SP::Judge::prom_keys], ['logstash', \&SP::Judge::logstash_keys]) {
    my $r = SP::Judge::run('canary', $src->[1]->($d->url),
        'window=30', 'interval=0.5', 'max_errors=3');
    diag($r->{log}) unless is($r->{exit}, 1, "$src->[0]: the stage failed");
    like($r->{log}, qr/found no data: answer is not a JSON object/, "$src->[0]: the log says why");
    ok(!grep({ $_->{verdict} eq 'pass' } @{ $r->{samples} }), "$src->[0]: no sample passed");
}
done_testing;
