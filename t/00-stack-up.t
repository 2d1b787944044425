#!/usr/bin/perl
# A stack comes up: health and readiness answer 200 over TLS without a
# token, plain HTTP redirects to HTTPS, and tools/stack status sees it all.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use IO::Socket::INET;

my $s = SP::Stack->new(workers => 0, settings => { worker_stale_after => undef });

my $r = $s->api(GET => '/api/v1/healthz');
is($r->{status}, 200, 'healthz answers 200 without a token');
$r = $s->api(GET => '/api/v1/readyz');
is($r->{status}, 200, 'readyz answers 200 once the database is up') or diag($r->{body});

$r = $s->api(GET => '/api/v1/healthz?x=1', url => $s->http_url . '/api/v1/healthz?x=1');
is($r->{status}, 301, 'plain HTTP answers 301');
is($r->{headers}{location}, 'https://localhost:' . $s->port('https') . '/api/v1/healthz?x=1',
    'to the same path and query on the HTTPS port');

# HTTP::Tiny will not send a Host of our choosing: speak HTTP by hand.
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port('http'))
    or die "connect: $!";
print $sock "GET / HTTP/1.0\r\nHost: evil.example\r\n\r\n";
my $raw = do { local $/; <$sock> };
like($raw, qr{\r\nLocation: https://localhost:\d+/\r\n}i, 'the redirect ignores the client Host header');

for my $server (qw(test canary production)) {
    my $d = $s->api(GET => '/', url => 'http://127.0.0.1:' . $s->port("demo_$server") . '/');
    is($d->{status}, 200, "demo $server server answers");
    like($d->{body}, qr{<h1>release r0</h1>}, "demo $server server serves release r0");
}

is($s->api(GET => '/favicon.ico')->{status}, 204, 'favicon.ico: an empty answer, no auth round trip');
is($s->api(GET => '/static/spiderpig.css')->{status}, 200, 'the stylesheet is served without a session');

my $status = $s->stack('status');
like($status, qr/postgres\s+running/, 'status: postgres running');
like($status, qr/fcgi\s+running/, 'status: fcgi running');
like($status, qr/nginx\s+running/, 'status: nginx running');
done_testing;
