#!/usr/bin/perl
# PostgreSQL stops for 10 s in the middle of a running stage, then starts
# again. Meanwhile the API answers 503 with Retry-After (problem+json),
# readyz 503, healthz 200; the stage keeps running and ends while the
# database is away. Afterwards everything recovers without restarting any
# daemon (same app and worker pids): the API answers, the stage is reported
# as passed (no rollback), its lines printed during the outage are stored,
# the committed ones are intact, and the deployment runs to its end.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use SP::Fault qw(alive answer_prompt drive_to_end enqueue_offered log_rows check_log);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    workers => 1,
    stages => { map { ($_ => [$stage, 'ok']) } @STAGES },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["FAULT_DIR=$tmp"] },
);
my $tok = $s->user('alice', 'deployer');
sub pidfile { open(my $fh, '<', $s->dir . "/run/$_[0].pid") or return ''; chomp(my $p = <$fh> // ''); $p }
my $app = pidfile('fcgi');
my ($worker) = $s->worker_pids;
is($s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, 'up: the API answers 200');

my $id = enqueue_offered($s);
open(my $fh, '>', "$tmp/hold-sync_test-run") or die $!;
close $fh;
$s->wait_for(sub {
    return 1 if -e "$tmp/record" && `cat $tmp/record` =~ /^$id run sync_test$/m;
    answer_prompt($s, $id, 'ready') if ($s->sql(q{select 1 from spiderpig.prompts where deployment_id = $1
        and answered_at is null}, $id)->[0]);
    0;
}, 30, 'sync_test to start');
$s->wait_for(sub {
    $s->sql(q{select 1 from spiderpig.log_lines where deployment_id = $1 and line like 'begin run sync_test%'}, $id)->[0];
}, 20, 'the first line of sync_test');
my $before = log_rows($s, $id);

my $t0 = time;
$s->stop_postgres;
my $r = $s->api(GET => '/api/v1/queue', token => $tok);
is($r->{status}, 503, 'database down: the API answers 503');
ok($r->{headers}{'retry-after'}, 'with Retry-After');
like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'as problem+json');
is($s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['2'] })->{status}, 503,
    'an enqueue answers 503 too');
is($s->api(GET => '/api/v1/readyz')->{status}, 503, 'readyz: 503');
is($s->api(GET => '/api/v1/healthz')->{status}, 200, 'healthz: 200');
# The stage ends while the database is away: its last line waits in the worker.
unlink "$tmp/hold-sync_test-run";
my $others = 0;
while (time < $t0 + 10) {
    my $x = $s->api(GET => '/api/v1/queue', token => $tok);
    $others++ unless $x->{status} == 503 && $x->{headers}{'retry-after'};
    sleep 0.5;
}
is($others, 0, 'every API answer during the 10 s was a 503 with Retry-After');
ok(alive($worker), 'the worker is still running');
$s->start_postgres;
diag(sprintf('postgres was down %.1f s', time - $t0));

my $back = $s->wait_for(sub { my $x = $s->api(GET => '/api/v1/queue', token => $tok); $x->{status} == 200 ? $x : undef },
    30, 'the API to answer again');
is($back->{status}, 200, 'back: the API answers 200');
$s->wait_for(sub { $s->api(GET => '/api/v1/readyz')->{status} == 200 }, 30, 'readyz 200');
pass('readyz: 200 again');
$s->wait_for(sub { my $p = $s->sql(q{select kind from spiderpig.prompts where deployment_id = $1
    and answered_at is null}, $id)->[0]; $p && $p->{kind} eq 'continue' }, 60, 'the continue prompt');
pass('the deployment got past the outage to its continue prompt');
is($s->sql(q{select count(*) as n from spiderpig.events where deployment_id = $1
    and action = 'rollback_started'}, $id)->[0]{n}, 0, 'nothing was rolled back');
ok($s->sql(q{select 1 from spiderpig.log_lines where deployment_id = $1 and line = $2}, $id,
    "end run sync_test deployment $id")->[0], 'the line printed during the outage is stored');
is(drive_to_end($s, $id, limit_s => 60), 'done', 'the deployment ends done');
my @bad = check_log($s, $id, $before);
ok(!@bad, 'the committed lines are intact, seq 1..n') or diag(join "\n", @bad);
is(pidfile('fcgi'), $app, 'the same app process');
is_deeply([$s->worker_pids], [$worker], 'the same worker process');
ok(alive($worker), 'which is alive');
done_testing;
