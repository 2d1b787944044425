#!/usr/bin/perl
# A failed stage asks the failure prompt instead of rolling back at once:
# retry runs the stage again, ignore (admins only; a deployer gets SP403)
# goes on to the next step, rollback rolls back, exit ends the deployment
# as abandoned, nobody answering rolls back. request_rollback works there.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql walk_stages open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $state = sub { $s->sql('select state from spiderpig.deployments where id=$1', $_[0])->[0]{state} };
my $answer = sub {
    my ($who, $id, $ans) = @_;
    try_sql($s, 'select spiderpig.answer($1,$2,$3,$4)', $who, $id, open_prompt($s, $id)->{id}, $ans);
};
# Enqueue, say yes, and fail $stage; returns the id at the failure prompt.
my $n = 0;
my $failing = sub {
    my ($stage) = @_;
    my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array[$1])}, ++$n)->[0]{id};
    $s->sql('select spiderpig.offer_next()');
    $answer->('alice', $id, 'yes');
    my $st = walk_stages($s, $id, 'w1', $stage);
    if ($st eq 'awaiting_continue') {
        $answer->('alice', $id, 'yes');
        $st = walk_stages($s, $id, 'w1', $stage);
    }
    is($st, 'awaiting_failure', "#$id: $stage fails: the failure prompt");
    return $id;
};

my $id = $failing->('sync_test');
my $p = open_prompt($s, $id);
is($p->{kind}, 'failure', 'the prompt kind is failure');
is_deeply($p->{choices}, [qw(retry ignore rollback exit)], 'retry, ignore, rollback, exit');
is($p->{default_answer}, 'rollback', 'the default is rollback');
like($p->{question}, qr/^Sync test servers failed: exit status 1\./, 'the question names the stage and why');
my $d = $s->sql('select * from spiderpig.deployments where id=$1', $id)->[0];
ok(!defined $d->{worker_id}, 'the worker let go of the row');
is($d->{failed_state}, 'syncing_test', 'failed_state names the state that failed');

my (undef, $err) = $answer->('alice', $id, 'ignore');
like($err // '', qr/^SP403: only an admin may ignore a failed stage/, 'a deployer may not ignore: SP403');
is($state->($id), 'awaiting_failure', 'and nothing changed');

(undef, $err) = $answer->('alice', $id, 'retry');
is($err, undef, 'retry is accepted');
is($state->($id), 'syncing_test', 'retry runs the failed stage again');
is(walk_stages($s, $id, 'w1', 'sync_test'), 'awaiting_failure', 'fails again');
(undef, $err) = $answer->('root', $id, 'ignore');
is($err, undef, 'an admin may ignore');
is($state->($id), 'smoke_testing', 'ignore goes on with the next step');
is(walk_stages($s, $id, 'w1', 'smoke_test'), 'awaiting_failure', 'smoke_test fails');
(undef, $err) = $answer->('root', $id, 'ignore');
is($state->($id), 'awaiting_continue', 'ignoring a stage before a prompt asks that prompt');
is(open_prompt($s, $id)->{kind}, 'continue', 'the continue prompt is open');
$answer->('alice', $id, 'yes');
is(walk_stages($s, $id, 'w1', 'canary_check'), 'awaiting_failure', 'canary_check fails');
(undef, $err) = $answer->('alice', $id, 'rollback');
is($state->($id), 'rolling_back', 'rollback rolls back');
like($s->sql('select rollback_reason from spiderpig.deployments where id=$1', $id)->[0]{rollback_reason},
    qr/^canary_check failed: exit status 1 \(alice chose to roll back\)$/, 'the reason names the stage and who');
is(walk_stages($s, $id, 'w1'), 'awaiting_ack', 'and asks for the acknowledgement');
is_deeply($s->sql('select touched_stages from spiderpig.deployments where id=$1', $id)->[0]{touched_stages},
    [qw(sync_test sync_canary)], 'the retried stage is listed once');
$answer->('alice', $id, 'ack');

$id = $failing->('merge');
(undef, $err) = $answer->('alice', $id, 'exit');
is($err, undef, 'exit is accepted');
$d = $s->sql('select * from spiderpig.deployments where id=$1', $id)->[0];
is($d->{state}, 'abandoned', 'exit ends the deployment as abandoned');
ok($d->{finished_at}, 'with finished_at');
ok(!$s->sql(q{select spiderpig.state_is_active('abandoned') as a})->[0]{a}, 'abandoned frees the queue');

$id = $failing->('sync_canary');
$s->sql(q{update spiderpig.prompts set expires_at = now() - interval '1 second' where deployment_id=$1 and answered_at is null}, $id);
is($s->sql('select spiderpig.expire_prompts() as n')->[0]{n}, 1, 'the failure prompt expires');
is($state->($id), 'rolling_back', 'nobody answering rolls back');
$p = $s->sql('select * from spiderpig.prompts where deployment_id=$1 and kind=$2', $id, 'failure')->[0];
ok($p->{timed_out} && $p->{answer} eq 'rollback' && $p->{answered_by} eq 'system', 'by timeout, as system');
like($s->sql('select rollback_reason from spiderpig.deployments where id=$1', $id)->[0]{rollback_reason},
    qr/the failure prompt timed out/, 'the reason says the prompt timed out');
is(walk_stages($s, $id, 'w1'), 'awaiting_ack', 'rolled back');
$answer->('alice', $id, 'ack');

$id = $failing->('smoke_test');
(undef, $err) = try_sql($s, 'select spiderpig.request_rollback($1, $2, $3)', 'alice', $id, 'not now');
is($err, undef, 'request_rollback works at the failure prompt');
is($state->($id), 'rolling_back', 'and rolls back');
ok(!open_prompt($s, $id), 'the failure prompt is withdrawn');

ok($s->sql(q{select count(*) = 0 as ok from spiderpig.settings where failure_timeout <> interval '10 minutes'})->[0]{ok},
    'failure_timeout defaults to 10 minutes');
done_testing;
