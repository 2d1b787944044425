#!/usr/bin/perl
# nginx refuses bodies over 64 KiB with a 413 problem+json before the app or
# the auth check sees them, and every response carries the security headers
# without a server version.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
my $big = '{"patches":["12345"],"pad":"' . ('a' x (70 * 1024)) . '"}';

for my $t ([ 'with a token', $tok ], [ 'without a token', undef ]) {
    my $r = $s->api(POST => '/api/v1/deployments', body => $big,
        headers => { 'Content-Type' => 'application/json' }, defined $t->[1] ? (token => $t->[1]) : ());
    is($r->{status}, 413, "a 70 KiB body $t->[0] is 413");
    like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, '413 is problem+json');
    is($r->{json}{status}, 413, 'the problem says 413');
}
is($s->sql('select count(*) as n from spiderpig.deployments')->[0]{n}, 0, 'nothing was enqueued');

my %want = (
    'strict-transport-security' => qr/^max-age=\d+/,
    'x-content-type-options'    => qr/^nosniff$/,
    'x-frame-options'           => qr/^DENY$/,
    'referrer-policy'           => qr/^same-origin$/,
    'content-security-policy'   => qr/^default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'$/,
);
my @responses = (
    [ 'healthz 200', $s->api(GET => '/api/v1/healthz') ],
    [ 'queue 200', $s->api(GET => '/api/v1/queue', token => $tok) ],
    [ 'no token 401', $s->api(GET => '/api/v1/queue') ],
    [ 'unknown path 404', $s->api(GET => '/api/v1/nope', token => $tok) ],
    [ 'bad json 400', $s->api(POST => '/api/v1/deployments', token => $tok, body => '{',
        headers => { 'Content-Type' => 'application/json' }) ],
    [ 'body too large 413', $s->api(POST => '/api/v1/deployments', token => $tok, body => $big) ],
    [ 'http redirect 301', $s->api(GET => '/', url => $s->http_url . '/') ],
);
for my $x (@responses) {
    my ($what, $r) = @$x;
    for my $h (sort keys %want) {
        like($r->{headers}{$h} // '(missing)', $want{$h}, "$what ($r->{status}): $h");
        ok(!ref $r->{headers}{$h}, "$what: one $h header, not two");
    }
    is($r->{headers}{server} // 'nginx', 'nginx', "$what: Server names no version");
}
is($responses[0][1]{status}, 200, 'healthz was 200');
is($responses[2][1]{status}, 401, 'no token was 401');
is($responses[3][1]{status}, 404, 'unknown path was 404');
is($responses[4][1]{status}, 400, 'bad json was 400');
done_testing;
