#!/usr/bin/perl
# Two hosts behind nginx; while a stage runs, kill -9 the worker running it
# and the app and the stream daemon of the same host. The other host's
# worker takes the deployment over when the lease runs out and, as after
# any worker lost mid-stage (t/920), rolls the interrupted stage back
# without running it again; the client drives it through nginx all along
# and every API answer is a 200 (nginx passes requests the dead app cannot
# take to the live one); new stream clients reach the live stream daemon
# and see the deployment end; the log is intact. A second deployment then
# runs to done on the surviving host.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use SP::MultiHost;
use SP::Fault qw(log_rows check_log);
use SP::Stream;

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my @SYNC = qw(sync_test sync_canary sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $m = SP::MultiHost->new(hosts => 2, stack => {
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES),
                (map { ("${_}_rollback" => [$stage, 'ok']) } @SYNC) },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 4,
                env => ["FAULT_DIR=$tmp"] },
});
my $s = $m->stack;
my $tok = $s->user('alice', 'deployer');
my $st = SP::Stream->new($s);

sub hold { open(my $fh, '>', "$tmp/hold-$_[0]") or die $!; close $fh }
hold('sync_canary-run');
my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a deployment queued through nginx') or diag($r->{body});
my $id = $r->{json}{id};

# Through nginx to sync_canary, which holds.
my @bad;
$s->wait_for(sub {
    return 1 if -e "$tmp/record" && `cat $tmp/record` =~ /^$id run sync_canary$/m;
    my $d = $s->api(GET => "/api/v1/deployments/$id", token => $tok);
    push @bad, "GET $d->{status}" unless $d->{status} == 200;
    if ($d->{json} && (my $p = $d->{json}{prompt})) {
        my $a = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
            json => { prompt => $p->{id}, answer => $p->{choices}[0] });
        push @bad, "POST $a->{status}" unless $a->{status} == 200;
    }
    0;
}, 60, 'sync_canary to run');
$s->wait_for(sub { $s->sql(q{select 1 from spiderpig.log_lines where deployment_id = $1
    and line like 'begin run sync_canary%'}, $id)->[0] }, 20, 'the first line of sync_canary');
my $before = log_rows($s, $id);

# The worker running it, by the pid in its worker id (host/pid/random).
my $holder = $s->sql('select worker_id from spiderpig.deployments where id = $1', $id)->[0]{worker_id};
my ($hpid) = $holder =~ m{^[^/]+/(\d+)/} or die "worker id $holder\n";
my ($dead) = grep { ($m->pid('worker', $_) // 0) == $hpid } 1 .. 2;
ok($dead, "the worker of host $dead runs the stage");
my $live = 3 - $dead;
$m->kill9($_, $dead) for qw(worker fcgi stream);
pass("kill -9 of host ${dead}'s worker, app and stream daemon");
unlink "$tmp/hold-sync_canary-run";

# Fresh connections, so nginx must pick an upstream for each.
my $ok = 0;
for (1 .. 10) {
    delete $s->{http};
    $ok++ if $s->api(GET => '/api/v1/queue', token => $tok)->{status} == 200;
}
is($ok, 10, 'ten requests on new connections after the kill: all 200');
my @hs = map { $st->run('handshake.js', $st->opts(token => $tok)) } 1 .. 4;
is(scalar(grep { $_->{open} && $_->{hello} } @hs), 4, 'four new stream connections: all open, with a hello')
    or diag(explain(\@hs));
my $c = $st->spawn('events.js', $st->opts(token => $tok, deployment => $id, ms => 120000));
$st->wait_line($c, 'READY', 20);

my ($state, $bad) = $m->api_drive($id, $tok, limit_s => 120);
is($state, 'rolled_back', 'the deployment ended: the interrupted stage was rolled back');
is_deeply([@bad, @$bad], [], 'every API answer through nginx was 200');
my $claim = $s->sql(q{select details->>'worker' as w from spiderpig.events where deployment_id = $1
    and action = 'claimed' and details->>'previous_worker' = $2}, $id, $holder)->[0];
my $lpid = $m->pid('worker', $live);
like($claim->{w} // '', qr{^[^/]+/$lpid/}, "host ${live}'s worker took it over");
is($s->sql(q{select count(*) as n from spiderpig.events where deployment_id = $1
    and action = 'rollback_started'}, $id)->[0]{n}, 1, 'one rollback');
is(scalar(() = `cat $tmp/record` =~ /^$id run sync_canary$/mg), 1, 'sync_canary was not run again');
my @problems = check_log($s, $id, $before);
ok(!@problems, 'the committed log lines are intact, seq 1..n') or diag(join "\n", @problems);
sleep 2;    # the last NOTIFY on its way to the client; not a timing assert
$st->say_to($c, 'STOP');
my @states = map { $_->{deployment}{state} } grep { $_->{type} eq 'deployment' } @{ $st->result($c, 30)->{frames} };
ok((grep { $_ eq 'rolled_back' } @states), 'a stream client that connected after the kill saw it end')
    or diag("states: @states");

$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['23456'] });
is($r->{status}, 201, 'a second deployment queued');
($state, $bad) = $m->api_drive($r->{json}{id}, $tok, limit_s => 120);
is($state, 'done', 'it runs to done on the surviving host');
is_deeply($bad, [], 'every API answer 200');
done_testing;
