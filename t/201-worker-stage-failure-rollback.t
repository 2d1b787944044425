#!/usr/bin/perl
# smoke_test fails: the deployment waits at the failure prompt; the
# requester answers "rollback", the worker runs the rollback command of
# sync_test (the only sync stage started) with SPIDERPIG_ACTION=rollback,
# and the deployment waits at awaiting_ack.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;

my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $s = SP::Stack->new(
    nginx => 0,
    stages => {
        merge => [$bin, 'ok'], sync_test => [$bin, 'ok'],
        smoke_test => [$bin, 'fail'],
        sync_test_rollback => [$bin, 'ok'],
        sync_canary_rollback => [$bin, 'ok'],
    },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["WORKER_TEST_RECORD=$rec"] },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_state($id, 'awaiting_failure', 30);
my $f = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
is($f->{kind}, 'failure', 'a failed stage asks the failure prompt');
is($f->{default_answer}, 'rollback', 'whose default is rollback');
like($f->{question}, qr/Smoke test failed: exit status 1/, 'naming the stage and why');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $f->{id}, 'rollback');
$s->wait_state($id, 'awaiting_ack', 30);
pass('the failed smoke test ends at awaiting_ack');

open(my $fh, '<', $rec) or die "$rec: $!";
chomp(my @ran = <$fh>);
close $fh;
is_deeply(\@ran, ["$id run merge", "$id run sync_test", "$id run smoke_test",
    "$id rollback sync_test"], 'stages ran, then the rollback of sync_test only');

my $d = $s->sql('select rollback_ok, rollback_reason from spiderpig.deployments where id=$1', $id)->[0];
ok($d->{rollback_ok}, 'the rollback is recorded as ok');
like($d->{rollback_reason}, qr/smoke_test failed: exit status 1 \(alice chose to roll back\)/, 'the reason names the failed stage');
my $lines = $s->wait_for(sub {
    my $r = $s->sql(q{select stream, line from spiderpig.log_lines where deployment_id=$1 order by seq}, $id);
    (grep { $_->{line} =~ /^rollback done/ } @$r) ? $r : undef;
}, 10, 'the rollback log lines');
my @sys = map { $_->{line} } grep { $_->{stream} eq 'system' } @$lines;
ok((grep { $_ eq 'exit status 1' } @sys), 'the failure is logged');
ok((grep { $_ eq 'rolling back sync_test' } @sys), '"rolling back sync_test" is logged');
ok((grep { /^starting rollback of sync_test: / } @sys), 'the rollback command start is logged');
ok((grep { $_->{line} eq "stage sync_test action rollback deployment $id patches 12345 requester alice" } @$lines),
    'the rollback command saw SPIDERPIG_ACTION=rollback');
done_testing;
