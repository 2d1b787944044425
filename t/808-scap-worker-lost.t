#!/usr/bin/perl
# kill -9 of the worker while scap waits at its continue prompt: scap dies
# with it (death signal), and the next worker, once the lease has run out,
# finds a run without a process: the rollback starts, nothing can do it,
# and the deployment waits for a person to acknowledge a failed rollback.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('deploy', worker => { lease => 4 });
my $s = $t->stack;
my ($first) = $s->worker_pids;
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');
my $p = $t->prompt($id);

$s->signal_worker($first, 'KILL');
$s->wait_for(sub { grep({ $_ eq 'signal TERM' } @{ $t->fake_log }) }, 30,
    'scap to get its death signal');
pass('scap ended with its worker');
$s->start_worker;
$s->wait_state($id, 'awaiting_ack', 30);
my $d = $t->deployment($id);
like($d->{rollback_reason}, qr/was interrupted: worker .* stopped renewing its lease/,
    'the reason names the lost worker');
ok(!$d->{rollback_ok}, 'the rollback is not counted as done');
my $old = $s->sql('select * from spiderpig.prompts where id = $1', $p->{id})->[0];
ok($old->{withdrawn}, 'scap\'s open question was withdrawn');
$t->wait_log($id, qr/no scap process: the run was lost/);
pass('the log says why');
done_testing;
