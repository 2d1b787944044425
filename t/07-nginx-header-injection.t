#!/usr/bin/perl
# A browser refused by the gate is sent to /login?return_to=PATH. The path
# must never reach the Location header decoded: over HTTP/1.1,
# GET /x%0d%0aSet-Cookie:... would otherwise add a header of the client's
# choosing. Raw requests over TLS, headers read as sent.
use strict; use warnings;
use lib 't/lib';
use IO::Socket::SSL;
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
# nginx makes the redirect absolute with the Host it was sent.
my $origin = qr{(?:https://127\.0\.0\.1:${\$s->port('https')})?};

# The raw response head of GET $target (HTTP/1.1, Accept: text/html).
sub raw_get {
    my ($target) = @_;
    my $c = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $s->port('https'),
        SSL_verify_mode => SSL_VERIFY_NONE, Timeout => 10) or die "connect: $SSL_ERROR";
    print $c "GET $target HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n"
        . "Connection: close\r\n\r\n";
    my $resp = '';
    while (my $n = sysread($c, my $buf, 8192)) { $resp .= $buf }
    close $c;
    my ($head) = split /\r\n\r\n/, $resp, 2;
    return $head // '';
}

for my $evil ('/x%0d%0aSet-Cookie:%20injected=1', '/x%0aSet-Cookie:%20injected=1',
              '/x%0d%0a%0d%0a<script>alert(1)</script>', '/%0d%0aLocation:%20https://evil.example/') {
    my $head = raw_get($evil);
    my @lines = split /\r\n/, $head;
    like($lines[0] // '', qr{^HTTP/1\.1 303 }, "$evil: 303 to the login page");
    my @loc = grep { /^Location:/i } @lines;
    is(scalar @loc, 1, "$evil: one Location header");
    like($loc[0] // '', qr{^Location: $origin/login\?return_to=/[A-Za-z0-9._~/-]*$}i,
        "$evil: Location is a plain path") or diag($head);
    ok(!grep({ /^Set-Cookie:\s*injected/i } @lines), "$evil: no injected Set-Cookie");
    ok(grep({ $_ eq 'X-Frame-Options: DENY' } @lines),
        "$evil: the headers after Location are still headers (no split response)");
    (my $flat = $head) =~ s/\r\n/ /g;
    ok($flat !~ /[\x00-\x1f\x7f]/, "$evil: no control characters but the line ends");
}

my @plain = split /\r\n/, raw_get('/tokens');
like((grep { /^Location:/i } @plain)[0], qr{^Location: $origin/login\?return_to=/tokens$},
    'a plain path still comes back after login');
my @query = split /\r\n/, raw_get('/admin?x=1&return_to=//evil.example');
like((grep { /^Location:/i } @query)[0], qr{^Location: $origin/login\?return_to=/admin$},
    'the query string is not carried into the login URL');
done_testing;
