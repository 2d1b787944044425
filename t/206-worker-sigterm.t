#!/usr/bin/perl
# SIGTERM while a stage runs: the worker lets the stage finish, reports it,
# flushes its log lines and exits 0 without starting the next stage. It hands
# the row back (no stage in flight), so the next worker carries on at once,
# without waiting for the lease and without rolling back.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;

my @stages = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$bin, 'ok']) } @stages), merge => [$bin, 'ok', '3'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["WORKER_TEST_RECORD=$rec"] },
);
my ($pid) = $s->worker_pids;
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub { -e $rec && `cat $rec` =~ /run merge/ }, 20, 'merge to start');

my $t0 = time;
my $status = $s->signal_worker($pid, 'TERM');
my $took = time - $t0;
is($status, 0, 'the worker exited 0');
cmp_ok($took, '>=', 2, sprintf('after the stage finished (%.1f s)', $took));

my $ev = $s->sql(q{select details->>'ok' as ok from spiderpig.events where deployment_id=$1
                   and action='stage_finished'}, $id);
is_deeply([map { $_->{ok} } @$ev], ['true'], 'merge was reported as finished ok');
ok($s->sql(q{select 1 from spiderpig.log_lines where deployment_id=$1 and line='done merge'}, $id)->[0],
    'the stage\'s last output line was flushed before exit');
my $d = $s->sql('select state, stage_started_at from spiderpig.deployments where id=$1', $id)->[0];
is($d->{state}, 'syncing_test', 'the next stage is runnable');
is($d->{stage_started_at}, undef, 'but was not started');
is($s->sql('select worker_id from spiderpig.deployments where id=$1', $id)->[0]{worker_id}, undef,
    'the exiting worker handed the row back');
chomp(my @ran = `cat $rec`);
is_deeply(\@ran, ["$id run merge"], 'only merge ran');

$s->start_worker;
$s->wait_state($id, 'awaiting_continue', 20);
pass('a new worker carries on');
is($s->sql(q{select count(*) as n from spiderpig.events where deployment_id=$1
             and action='rollback_started'}, $id)->[0]{n}, 0, 'without a rollback');
done_testing;
