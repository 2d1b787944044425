#!/usr/bin/perl
# Nobody answers scap's continue prompt: after continue_timeout the worker
# applies its default (roll back), writes that key to scap's stdin, and the
# deployment rolls back with the timeout as its reason.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('deploy', settings => { continue_timeout => '2 seconds' });
my $s = $t->stack;
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');
my $p = $t->prompt($id);
like($p->{question}, qr/Continue with deployment/, 'the continue prompt, left unanswered');

$s->wait_state($id, 'rolling_back', 30);
my $closed = $s->sql('select * from spiderpig.prompts where id = $1', $p->{id})->[0];
ok($closed->{timed_out}, 'the prompt timed out');
is($closed->{answer}, 'n', 'its default was taken');
is($closed->{answered_by}, 'system', 'by the system');
like($t->deployment($id)->{rollback_reason}, qr/scap's question timed out: "No, roll back/,
    'the reason says so');
my $ack = $t->prompt($id);
ok(grep({ $_ eq 'answer n' } @{ $t->fake_log }), 'scap read the default key on its stdin');
$t->answer($id, $ack, 'a');
$s->wait_state($id, 'rolled_back', 30);
pass('and rolled back');
done_testing;
