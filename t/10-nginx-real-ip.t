#!/usr/bin/perl
# Behind a reverse proxy the rate limits must key on the real client, not
# the proxy. X-Forwarded-For is believed only from the proxies named in
# SPIDERPIG_TRUSTED_PROXIES (real_ip, read right to left); from anyone
# else it is ignored, so a client cannot pick a fresh bucket per request.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my %limit = (SPIDERPIG_API_RATE => '1r/m', SPIDERPIG_API_BURST => 2);

sub codes {
    my ($s, @xff) = @_;
    return map { $s->api(GET => '/api/v1/queue', headers => { 'X-Forwarded-For' => $_ })->{status} } @xff;
}

sub access_log {
    my ($s) = @_;
    $s->stack('stop', 'nginx');    # flushes the buffered log
    open(my $fh, '<', $s->log_path('nginx-access')) or die $!;
    my $text = do { local $/; <$fh> };
    return $text;
}

{
    # The client (127.0.0.1) is not a trusted proxy.
    my $s = SP::Stack->new(workers => 0,
        env => { %limit, SPIDERPIG_TRUSTED_PROXIES => '10.9.9.9' });
    my @c = codes($s, map { "203.0.113.$_" } 1 .. 6);
    is_deeply(\@c, [401, 401, 401, 429, 429, 429],
        'untrusted peer: X-Forwarded-For is ignored, every request counts against 127.0.0.1');
    my $log = access_log($s);
    unlike($log, qr/^203\.0\.113\./m, 'the log names the peer, not the forwarded address');
}
{
    # The client (127.0.0.1) is the trusted proxy.
    my $s = SP::Stack->new(workers => 0,
        env => { %limit, SPIDERPIG_TRUSTED_PROXIES => '127.0.0.1 10.0.0.0/8' });
    my @c = codes($s, map { "203.0.113.$_" } 1 .. 6);
    is_deeply(\@c, [ (401) x 6 ], 'trusted proxy: each forwarded client has a bucket of its own');
    @c = codes($s, ('198.51.100.7') x 4);
    is_deeply(\@c, [401, 401, 401, 429], 'one forwarded client is limited like a direct one');
    # Read right to left: what a client wrote before the proxy's own entry
    # is not believed.
    @c = codes($s, map { "192.0.2.$_, 198.51.100.7" } 1 .. 2);
    is_deeply(\@c, [429, 429], 'a client cannot escape its bucket by adding its own X-Forwarded-For entries');
    my $log = access_log($s);
    like($log, qr/^203\.0\.113\.1 /m, 'the log names the real client');
}
done_testing;
