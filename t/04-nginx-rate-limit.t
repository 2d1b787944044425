#!/usr/bin/perl
# Past its burst, one address gets 429 problem+json with Retry-After from
# nginx, before the auth check; health checks are not limited.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0,
    env => { SPIDERPIG_API_RATE => '1r/m', SPIDERPIG_API_BURST => 5 });
my @codes = map { $s->api(GET => '/api/v1/queue')->{status} } 1 .. 10;
is_deeply([ @codes[0 .. 5] ], [ (401) x 6 ], 'the first 1 + burst 5 requests reach the auth check');
is_deeply([ @codes[6 .. 9] ], [ (429) x 4 ], 'the rest are refused with 429');

my $r = $s->api(GET => '/api/v1/queue');
is($r->{status}, 429, 'still limited');
like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, '429 is problem+json');
is($r->{json}{status}, 429, 'the problem says 429');
ok(($r->{headers}{'retry-after'} // 0) > 0, 'with Retry-After');
is($r->{headers}{'x-frame-options'}, 'DENY', 'and the security headers');

is($s->api(GET => '/api/v1/healthz')->{status}, 200, 'healthz is not limited');
done_testing;
