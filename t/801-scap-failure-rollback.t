#!/usr/bin/perl
# scap's failure prompt (retry / ignore / roll back / exit): retry asks
# again, "roll back" moves the deployment to rolling_back with the reason,
# and scap's rollback acknowledgement, answered through the API, ends it
# rolled back.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('failure');
my $s = $t->stack;
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');                        # backport
$t->answer($id, $t->prompt($id), 'y');                        # continue

my $p = $t->prompt($id);
like($p->{question}, qr/^Canary checks failed/, 'the failure prompt');
is_deeply([sort @{ $p->{choices} }], [qw(b i r x)], 'retry, ignore, roll back, exit');
is($p->{default_answer}, 'b', 'nobody answering means rolling back');
is($t->deployment($id)->{state}, 'checking_canary', 'at the canary check');
$t->answer($id, $p, 'r');

my $again = $s->wait_for(sub {
    my $q = $t->prompt($id);
    $q->{id} != $p->{id} ? $q : undef;
}, 30, 'the failure prompt again after retry');
like($again->{question}, qr/^Canary checks failed/, 'retry: scap asks again');
$t->answer($id, $again, 'b');

$s->wait_state($id, 'rolling_back', 30);
my $d = $t->deployment($id);
like($d->{rollback_reason}, qr/alice chose "Roll back all stages"/, 'the reason names who chose what');
my $ack = $t->prompt($id);
like($ack->{question}, qr/Acknowledge/, 'scap asks for the acknowledgement');
is_deeply($ack->{choices}, ['a'], 'one button');
ok($t->deployment($id)->{worker_id}, 'the worker still holds the rolling back row');
$t->answer($id, $ack, 'a');

$s->wait_state($id, 'rolled_back', 30);
pass('acknowledged in scap: rolled back');
ok($t->deployment($id)->{rollback_ok}, 'the rollback counts as done');
is_deeply([grep { /^answer/ } @{ $t->fake_log }],
    ['answer y', 'answer y', 'answer r', 'answer b', 'answer a'], 'scap read each answer');
is($s->sql(q{select count(*) as n from spiderpig.prompts where deployment_id = $1
    and answered_at is null}, $id)->[0]{n}, 0, 'no prompt is left open');
done_testing;
