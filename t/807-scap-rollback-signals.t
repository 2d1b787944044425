#!/usr/bin/perl
# A rollback requested through the API while scap runs: the worker sends
# SIGINT to scap's process group, then SIGKILL after [scap] grace when it
# does not stop; with no process left to undo anything, the deployment
# waits for a person to acknowledge a failed rollback.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use SP::Scap qw(scap_stack);

my $t = scap_stack('stubborn', scap => { grace => 2 });
my $s = $t->stack;
my $id = $t->start;
$s->wait_state($id, 'syncing_test', 30);
$t->wait_log($id, qr/^waiting$/);

my $t0 = time;
my $r = $s->api(POST => "/api/v1/deployments/$id/rollback", token => $t->{token},
    json => { reason => 'wrong patch' });
is($r->{status}, 200, 'rollback requested through the API');
$s->wait_state($id, 'awaiting_ack', 30);
my $took = time - $t0;
ok(grep({ $_ eq 'signal INT' } @{ $t->fake_log }), 'scap got SIGINT');
cmp_ok($took, '>=', 1.5, 'and was given the grace period');
cmp_ok($took, '<', 15, 'then killed');
$t->wait_log($id, qr/^scap run over/);
my @sys = map { $_->{line} } grep { $_->{stream} eq 'system' } @{ $t->log_lines($id) };
ok((grep { /sending SIGINT|stopping the command/ } @sys), 'the log says the command was stopped');
ok((grep { /^scap run over \(failed: interrupted/ } @sys), 'and how it ended');
my $d = $t->deployment($id);
like($d->{rollback_reason}, qr/alice asked for a rollback: wrong patch/, 'the reason is the request');
ok(!$d->{rollback_ok}, 'no rollback was done by spiderpig');
is($d->{worker_id}, undef, 'released');
done_testing;
