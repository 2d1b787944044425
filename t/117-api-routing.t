#!/usr/bin/perl
# Routing answers: unknown path 404, wrong method 405 with Allow, non-numeric
# id 404, no identity 401, health checks open; all problem+json.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, settings => { worker_stale_after => undef });
my $tok = $s->user('alice', 'deployer');

my $h = $s->api(GET => '/api/v1/healthz');
is $h->{status}, 200, 'healthz without a token';
is_deeply $h->{json}, { status => 'ok' }, 'healthz body';
is $s->api(GET => '/api/v1/readyz')->{status}, 200, 'readyz without a token';

is $s->api(GET => '/api/v1/queue')->{status}, 401, 'no token: 401';
is $s->api(GET => '/api/v1/queue', token => 'spt_' . ('A' x 43))->{status}, 401,
    'unknown token: 401';

for my $case (['/api/v1/nope', 'unknown path'], ['/api/v1/deployments/abc', 'non-numeric id'],
              ['/api/v1/deployments/0', 'id 0'], ['/api/v1/deployments/12x/log', 'id with junk']) {
    my $r = $s->api(GET => $case->[0], token => $tok);
    is $r->{status}, 404, "$case->[1]: 404";
    like $r->{headers}{'content-type'} // '', qr{^application/problem\+json}, "$case->[1]: problem+json";
}
my $m = $s->api(DELETE => '/api/v1/queue', token => $tok);
is $m->{status}, 405, 'wrong method: 405';
is $m->{headers}{allow}, 'GET', 'Allow: GET';
is $m->{json}{status}, 405, 'problem+json';
my $m2 = $s->api(PUT => '/api/v1/deployments', token => $tok);
is $m2->{headers}{allow}, 'POST, GET', 'Allow lists every method of the path';

done_testing;
