#!/usr/bin/perl
# Failover while a deployment waits at a prompt. Two hosts (an app, a
# worker and a stream daemon each) reach PostgreSQL through a conninfo
# naming the primary and a streaming standby with
# target_session_attrs=read-write. Once the standby has replayed all the
# primary wrote (replication is asynchronous: what "nothing lost" can mean
# is what was replicated before the primary died, so the test waits for
# that before it strikes), the primary is stopped at once (immediate) and
# the standby promoted. Every daemon connects to the new primary by itself
# (same pids), LISTENs again (a token revoked after the failover is refused
# at once by both apps), and the API answers 200 through nginx; the
# continue prompt answered through the API after the promotion reaches a
# worker and the deployment runs to done. The log keeps every line, seq
# 1..n once, and the stream client subscribed before the failover gets
# every line once and sees the deployment end.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use SP::MultiHost;
use SP::Fault qw(log_rows check_log);
use SP::Stream;

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
my $st = SP::Stream->new($s);
my %pid = map { ("@$_" => $m->pid(@$_)) } $m->daemons;

my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a deployment queued through nginx') or diag($r->{body});
my $id = $r->{json}{id};
my $c = $st->spawn('events.js', $st->opts(token => $tok, deployment => $id, ms => 180000));
$st->wait_line($c, 'READY', 20);

# Through the API to the continue prompt.
my $p = $s->wait_for(sub {
    my $d = $s->api(GET => "/api/v1/deployments/$id", token => $tok)->{json} or return 0;
    my $p = $d->{prompt} or return 0;
    return $p if $p->{kind} eq 'continue';
    $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
        json => { prompt => $p->{id}, answer => 'yes' });
    0;
}, 60, 'the continue prompt');
# A second deployer's token, verified (and cached) by both apps.
my $eve = $s->user('eve', 'deployer');
my $fresh = sub {
    my ($t) = @_;
    my %n;
    for (1 .. 10) { delete $s->{http}; $n{ $s->api(GET => '/api/v1/queue', token => $t)->{status} }++ }
    return join ' ', map { "$_ x$n{$_}" } sort keys %n;
};
is($fresh->($eve), '200 x10', "eve's token works on both apps");
my $before = log_rows($s, $id);
ok(@$before > 0, scalar(@$before) . ' log lines before the failover');

$s->wait_for(sub { $m->caught_up }, 30, 'the standby to replay everything');
$m->promote;
pass('primary stopped (immediate), standby promoted');

# Every daemon finds the new primary by itself (the apps when a request
# comes: requests on fresh connections reach both).
my %app = ('spiderpig-worker' => 'worker', 'spiderpig-worker-listen' => 'worker LISTEN',
    'spiderpig-stream' => 'stream daemon', 'spiderpig-fcgi' => 'app');
my @bad;
for my $name (sort keys %app) {
    my @got;
    eval {
        $s->wait_for(sub {
            if ($name eq 'spiderpig-fcgi') {
                delete $s->{http};
                my $x = $s->api(GET => '/api/v1/queue', token => $tok);
                push @bad, "GET $x->{status}" unless $x->{status} == 200;
            }
            @got = $m->db_clients($name);
            @got == 2;
        }, 60, "both hosts' $app{$name} on the new primary");
    };
    is_deeply(\@got, [1, 2], "both hosts' $app{$name} reconnected to the new primary");
}
is_deeply(\@bad, [], 'every API answer after the promotion was 200');

# The apps' auth caches LISTEN again on their new connections: eve's
# token, cached again after the failover, is refused by both at once when
# revoked on the new primary.
is($fresh->($eve), '200 x10', "eve's token still works after the failover");
$s->sql(q{update spiderpig.api_tokens set revoked_at = now() where username = 'eve'});
is($fresh->($eve), '401 x10', 'revoked on the new primary: refused at once by both apps');

my $a = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
    json => { prompt => $p->{id}, answer => 'yes' });
is($a->{status}, 200, 'the continue prompt answered through nginx after the promotion')
    or diag($a->{body});
my ($state, $bad) = $m->api_drive($id, $tok, limit_s => 120);
is($state, 'done', 'a worker got the answer and the deployment ran to done');
is_deeply($bad, [], 'every API answer on the way was 200');
my @problems = check_log($s, $id, $before);
ok(!@problems, 'every line from before the failover is there, seq 1..n') or diag(join "\n", @problems);
my $n = $s->sql(q{select max(seq) as m from spiderpig.log_lines where deployment_id = $1}, $id)->[0]{m};
ok($n > @$before, 'the stages after the promotion logged too');
ok(!$s->sql(q{select 1 from spiderpig.events where deployment_id = $1 and action = 'rollback_started'}, $id)->[0],
    'nothing was rolled back');

sleep 2;    # the last NOTIFY on its way to the client; not a timing assert
$st->say_to($c, 'STOP');
my @f = @{ $st->result($c, 30)->{frames} };
my @seqs;
for my $l (map { @{ $_->{lines} } } grep { $_->{type} eq 'lines' } @f) {
    push @seqs, $l->{seq} .. ($l->{last_seq} // $l->{seq});
}
is_deeply(\@seqs, [1 .. $n], "the stream client got lines 1..$n once, in order");
my @states = map { $_->{deployment}{state} } grep { $_->{type} eq 'deployment' } @f;
ok((grep { $_ eq 'done' } @states), 'and saw the deployment done') or diag("states: @states");
is_deeply({ map { ("@$_" => $m->pid(@$_)) } $m->daemons }, \%pid, 'no daemon was restarted');
ok($m->alive(@$_), "$_->[0] of host $_->[1] is alive") for $m->daemons;
done_testing;
