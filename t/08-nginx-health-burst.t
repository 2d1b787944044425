#!/usr/bin/perl
# An unauthenticated burst must not starve the gate. With 3 nginx workers
# each keeping connections to the app, a few seconds of wrk against
# /api/v1/healthz used to leave every app thread held by a kept connection:
# /_auth hung and a valid token waited for more than 20 s. Now the health
# checks have a rate limit, /_auth has threads of its own, and the app has
# more threads than nginx can keep (it refuses to start otherwise). Run
# twice: with the health limit, and with it lifted (the thread sizing and
# the auth pool alone must hold).
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::SSL;
use Test::More;
use Time::HiRes qw(time sleep);
use SP::Stack;

plan skip_all => 'wrk is not installed' unless grep { -x "$_/wrk" } split /:/, $ENV{PATH};

my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 30, keep_alive => 0,
    SSL_options => { SSL_verify_mode => SSL_VERIFY_NONE });

# Seconds a token request takes, and its status.
sub timed_queue {
    my ($s, $tok) = @_;
    my $t0 = time;
    my $r = $http->get($s->base_url . '/api/v1/queue',
        { headers => { Authorization => "Bearer $tok" } });
    return (time - $t0, $r->{status});
}

for my $case ([ 'health limit', {} ],
              [ 'health limit lifted', { SPIDERPIG_HEALTH_RATE => '100000r/s',
                                         SPIDERPIG_HEALTH_BURST => 100000 } ]) {
    my ($name, $env) = @$case;
    my $s = SP::Stack->new(workers => 0,
        env => { SPIDERPIG_NGINX_WORKERS => 3, %$env });
    my $tok = $s->user('alice');
    my ($t, $st) = timed_queue($s, $tok);
    is($st, 200, "$name: the token works before the burst");

    my $pid = open(my $wrk, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        exec('wrk', '-t', 2, '-c', 120, '-d', '4s', '--timeout', '2s',
            $s->base_url . '/api/v1/healthz') or die "wrk: $!";
    }
    sleep 2;
    ($t, $st) = timed_queue($s, $tok);
    is($st, 200, "$name: a token request during the burst answers 200");
    cmp_ok($t, '<', 5, "$name: ... within 5 s (took ${\sprintf '%.2f', $t} s)");
    my $report = do { local $/; <$wrk> };
    close $wrk;
    diag("$name: wrk: " . join(' | ', grep { /Requests\/sec|Non-2xx|requests in|Socket errors/ } split /\n/, $report));
    like($report, qr/requests in/, "$name: wrk ran");
    if ($name eq 'health limit') {
        like($report, qr/Non-2xx or 3xx responses: \d+/, "$name: the burst met the limit (429)");
    }
    ($t, $st) = timed_queue($s, $tok);
    is($st, 200, "$name: a token request after the burst answers 200");
    cmp_ok($t, '<', 5, "$name: ... within 5 s (took ${\sprintf '%.2f', $t} s)");
}

# The app refuses a config where nginx's kept connections could hold
# every thread.
my $tmp = tempdir(CLEANUP => 1);
open(my $fh, '>', "$tmp/bad.ini") or die $!;
print $fh "[fcgi]\nsocket = $tmp/s.sock\nthreads = 32\nkept_connections = 48\n";
close $fh;
my $msg = `${\SP::Stack->repo}/build/spiderpig-fcgi -c $tmp/bad.ini 2>&1`;
isnt($? >> 8, 0, 'threads 32 for 48 kept connections: the app refuses to start');
like($msg, qr/threads \(32\) must be more than kept_connections \(48\)/, 'and says why');
done_testing;
