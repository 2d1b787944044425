#!/usr/bin/perl
# kill -9 the worker while the deployment waits at the continue prompt: no
# worker holds a row at a prompt, so nothing is rolled back; the deployment
# keeps waiting, and a later answer is carried on by another worker.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use SP::Stack;

my @stages = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { map { ($_ => [$bin, 'ok']) } @stages },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 2 },
);
my ($first) = $s->worker_pids;
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $open = sub {
    $s->sql(q{select id, kind from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
};
my $p = $s->wait_for($open, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_state($id, 'awaiting_continue', 30);

$s->signal_worker($first, 'KILL');
$s->start_worker;
sleep 5;    # more than twice the lease, several polls of the new worker
my $d = $s->sql('select state, worker_id from spiderpig.deployments where id=$1', $id)->[0];
is($d->{state}, 'awaiting_continue', 'still waiting at the prompt');
is($d->{worker_id}, undef, 'no worker holds it');
my $q = $open->();
is($q->{kind}, 'continue', 'the continue prompt is still open');
is($s->sql(q{select count(*) as n from spiderpig.events where deployment_id=$1
             and action='rollback_started'}, $id)->[0]{n}, 0, 'nothing was rolled back');

$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $q->{id}, 'yes');
$s->wait_state($id, 'awaiting_finish', 30);
pass('after the answer the new worker runs the remaining stages');
done_testing;
