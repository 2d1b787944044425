#!/usr/bin/perl
# kill -9 the worker in the middle of sync_test (a stage that sleeps): a
# second worker takes the row over when the lease runs out, rolls back
# sync_test, and the deployment reaches awaiting_ack within 15 s.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;

my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => {
        merge => [$bin, 'ok'], sync_test => [$bin, 'ok', '60'],
        sync_test_rollback => [$bin, 'ok'],
    },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["WORKER_TEST_RECORD=$rec"] },
);
my ($first) = $s->worker_pids;
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub { -e $rec && `cat $rec` =~ /^$id run sync_test$/m }, 20, 'sync_test to start');

$s->signal_worker($first, 'KILL');
my $killed = time;
my $second = $s->start_worker;
$s->wait_state($id, 'awaiting_ack', 15);
my $took = time - $killed;
cmp_ok($took, '<', 15, sprintf('rolled back %.1f s after the kill', $took));

my $d = $s->sql('select rollback_ok, rollback_reason from spiderpig.deployments where id=$1', $id)->[0];
like($d->{rollback_reason}, qr/interrupted/, 'the reason says the stage was interrupted');
ok($d->{rollback_ok}, 'the rollback succeeded');
chomp(my @ran = `cat $rec`);
is_deeply(\@ran, ["$id run merge", "$id run sync_test", "$id rollback sync_test"],
    'the second worker ran the rollback of sync_test, and did not rerun the stage');
my $ev = $s->sql(q{select details->>'worker' as w from spiderpig.events
                   where deployment_id=$1 and action='claimed' order by id desc limit 1}, $id)->[0];
like($ev->{w}, qr{/$second/[0-9a-f]{8}$}, 'the row was claimed by the second worker');
done_testing;
