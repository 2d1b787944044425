#!/usr/bin/perl
# Failover when the primary's machine vanishes instead of its process
# dying: no reset, no FIN reaches the hosts (a blackhole route to the
# primary in each namespace), so their connections look alive and only
# TCP can tell they are dead. The standby is promoted while a deployment
# waits at a prompt. Every daemon must still find the new primary within
# a bounded time (libpq keepalives and tcp_user_timeout, not the kernel's
# default of about 15 minutes of retransmissions): the apps, the workers
# and their LISTEN connections, and the stream daemons; the prompt is
# answered through nginx and the deployment runs to done.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::MultiHost;
use SP::Fault qw(log_rows check_log);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $m = SP::MultiHost->new(hosts => 2, standby => 1, stack => {
    stages => { map { ($_ => [$stage, 'ok']) } @STAGES },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["FAULT_DIR=$tmp"] },
});
my $s = $m->stack;
my $tok = $s->user('alice', 'deployer');

my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a deployment queued through nginx') or diag($r->{body});
my $id = $r->{json}{id};
my $p = $s->wait_for(sub {
    my $d = $s->api(GET => "/api/v1/deployments/$id", token => $tok)->{json} or return 0;
    my $p = $d->{prompt} or return 0;
    return $p if $p->{kind} eq 'continue';
    $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
        json => { prompt => $p->{id}, answer => 'yes' });
    0;
}, 60, 'the continue prompt');
# Requests through both apps, so each holds database connections.
for (1 .. 10) { delete $s->{http}; $s->api(GET => '/api/v1/queue', token => $tok) }
my $before = log_rows($s, $id);
$s->wait_for(sub { $m->caught_up }, 30, 'the standby to replay everything');

$m->cut_primary;
$m->promote(keep_primary => 1);
pass('the primary is cut off from every host (silently) and the standby promoted');
my $t0 = time;

# Bounded well below the kernel's retransmission timeout (about 15 min).
my %app = ('spiderpig-worker' => 'worker', 'spiderpig-worker-listen' => 'worker LISTEN',
    'spiderpig-stream' => 'stream daemon', 'spiderpig-fcgi' => 'app');
my %got;
eval {
    $s->wait_for(sub {
        delete $s->{http};
        $s->api(GET => '/api/v1/queue', token => $tok);    # the apps connect on a request
        %got = map { ($_ => [$m->db_clients($_)]) } keys %app;
        !grep { @{ $got{$_} } != 2 } keys %app;
    }, 120, 'every daemon on the new primary');
};
is_deeply($got{$_}, [1, 2], "both hosts' $app{$_} reached the new primary") for sort keys %app;
# Driving the deployment needs them: stop here if they are not there.
if (grep { @{ $got{$_} } != 2 } keys %app) {
    done_testing;
    exit;
}
diag(sprintf('every daemon on the new primary %.0f s after the promotion', time - $t0));

my $a = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
    json => { prompt => $p->{id}, answer => 'yes' });
is($a->{status}, 200, 'the continue prompt answered through nginx') or diag($a->{body});
my ($state, $bad) = $m->api_drive($id, $tok, limit_s => 120);
is($state, 'done', 'the deployment ran to done');
my @problems = check_log($s, $id, $before);
ok(!@problems, 'every line from before the failover is there, seq 1..n') or diag(join "\n", @problems);
ok($m->alive(@$_), "$_->[0] of host $_->[1] is alive") for $m->daemons;
done_testing;
