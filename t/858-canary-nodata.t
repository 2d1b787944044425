#!/usr/bin/perl
# No data fails. Prometheus answering an empty vector (the query matched no
# series) and a log store answering 404 for its index are looks without
# data: the stage fails with the reason in the log, from either source.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::MetricsDouble;
use SP::Judge;

my $d = SP::MetricsDouble->new(scenario => 'nodata');
my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url),
    'window=30', 'interval=0.5', 'max_errors=4');
diag($r->{log}) unless is($r->{exit}, 1, 'prometheus without series: failed');
like($r->{log}, qr/found no data: the query matched no series \(query sum\(demo_errors_total/,
    'each look says what was missing');
like($r->{detail}, qr/no usable metrics \(the query matched no series/, "detail: $r->{detail}");
is($r->{samples}[-1]{verdict}, 'no_data', 'the last sample says no_data');

$r = SP::Judge::run('canary', SP::Judge::logstash_keys($d->url),
    'window=30', 'interval=0.5', 'max_errors=4');
diag($r->{log}) unless is($r->{exit}, 1, 'logstash answering 404: failed');
like($r->{log}, qr/found no data: HTTP status 404/, 'the log names the HTTP status');
done_testing;
