#!/usr/bin/perl
# Control characters a client puts in a request (percent-encoded in the
# path, raw in a header) never reach the daemons' logs raw: no forged log
# lines, no terminal escapes. nginx's access and error logs escape them,
# and so do the app's and the worker's own lines (build/t/log_escape).
use strict; use warnings;
use lib 't/lib';
use IO::Socket::SSL;
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);

sub raw {
    my ($request) = @_;
    my $c = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $s->port('https'),
        SSL_verify_mode => SSL_VERIFY_NONE, Timeout => 10) or die "connect: $SSL_ERROR";
    print $c $request;
    my $resp = '';
    while (my $n = sysread($c, my $buf, 8192)) { $resp .= $buf }
    close $c;
    return $resp =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
}

my $fake = '%0d%0a127.0.0.1%20-%20-%20FAKE%20LINE%1b%5b31m%07%7f';
my @requests = (
    "GET /static/x$fake HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /api/v1/x$fake HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /x$fake HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
    "GET /login?return_to=/x$fake HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /api/v1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ua\x1b[31m\x07FAKE\r\nConnection: close\r\n\r\n",
    "GET /a\x1bb HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
);
for my $req (@requests) {
    my $st = raw($req);
    (my $show = $req) =~ s/\r\n.*//s;
    $show =~ s/([\x00-\x1f\x7f])/sprintf '\\x%02x', ord $1/ge;
    ok($st > 0, "$show: answered $st");
}
# nginx flushes its buffered access log when it stops.
$s->stack('stop', 'nginx');

for my $log (map { $s->log_path($_) } qw(nginx-access nginx-error fcgi)) {
    open(my $fh, '<', $log) or die "$log: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    (my $name = $log) =~ s{.*/}{};
    my @bad = grep { /[\x00-\x08\x0b-\x1f\x7f]/ } split /\n/, $text;
    is(scalar @bad, 0, "$name: no line holds a raw control character")
        or diag(map { s/([\x00-\x1f\x7f])/sprintf '<%02x>', ord $1/ger . "\n" } @bad);
    my @forged = grep { /^127\.0\.0\.1 - - FAKE LINE/ } split /\n/, $text;
    is(scalar @forged, 0, "$name: no forged line");
}

my $unit = SP::Stack->repo . '/build/t/log_escape';
my $out = `$unit`;
is($?, 0, 'the daemons\' own log lines escape control characters (log_escape)') or diag($out);
note($out);
done_testing;
