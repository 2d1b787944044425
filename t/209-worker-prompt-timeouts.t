#!/usr/bin/perl
# With short configured timeouts the running worker applies each prompt's
# default by itself: an unanswered "ready?" expires and the next deployment
# is offered; an unanswered "continue?" rolls back what was synced.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $ok = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    nginx => 0,
    stages => { map({ $_ => [$ok, 'ok'] } qw(merge sync_test smoke_test)),
                sync_test_rollback => [$ok, 'ok'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
    settings => { ready_timeout => '2 seconds', continue_timeout => '2 seconds' },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $first = $s->sql(q{select id from spiderpig.enqueue('alice', array['1'])})->[0]{id};
my $second = $s->sql(q{select id from spiderpig.enqueue('alice', array['2'])})->[0]{id};

$s->wait_state($first, 'expired', 20);
pass('an unanswered ready prompt expires the deployment');
my $p = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1}, $first)->[0];
ok($p->{timed_out} && $p->{answered_by} eq 'system', 'the prompt was closed by timeout, not by a person');

$p = $s->wait_for(sub {
    $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $second)->[0];
}, 20, 'the next deployment is offered');
is($p->{kind}, 'ready', 'the next deployment is asked "ready?"');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $second, $p->{id}, 'yes');

$s->wait_state($second, 'awaiting_ack', 30);
pass('an unanswered continue prompt rolls back');
my $d = $s->sql(q{select * from spiderpig.deployments where id=$1}, $second)->[0];
like($d->{rollback_reason}, qr/continue prompt timed out/, 'the reason says the prompt timed out');
ok($d->{rollback_ok}, 'the rollback of the synced test servers succeeded');
my @ev = map { $_->{action} } @{ $s->sql(q{select action from spiderpig.events where deployment_id=$1 order by id}, $second) };
ok((grep { $_ eq 'rollback_finished' } @ev), 'the rollback is in the audit trail');
done_testing;
