#!/usr/bin/perl
# "exit" at scap's failure prompt: scap ends without rolling back, so no
# process is left to undo anything. The deployment goes to rolling_back
# and at once to awaiting_ack with the rollback marked failed: a person
# checks the servers, acknowledges, and it ends rollback_failed.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('failure');
my $s = $t->stack;
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');
$t->answer($id, $t->prompt($id), 'y');
$t->answer($id, $t->prompt($id), 'x');

my $ack = $t->prompt($id, 'ack');
pass('spiderpig asks for the acknowledgement itself');
my $d = $t->deployment($id);
is($d->{state}, 'awaiting_ack', 'awaiting_ack');
like($d->{rollback_reason}, qr/scap ended: exit status 1/, 'the reason is how scap ended');
ok(!$d->{rollback_ok}, 'the rollback is not counted as done');
is($d->{worker_id}, undef, 'no worker holds it');
$t->wait_log($id, qr/exiting without rolling back/);
pass('scap\'s last words are in the log');

my $r = $s->api(POST => "/api/v1/deployments/$id/answer", token => $t->{token},
    json => { prompt => $ack->{id} + 0, answer => 'ack' });
is($r->{status}, 200, 'acknowledged through the API');
$s->wait_state($id, 'rollback_failed', 10);
pass('rollback_failed');
done_testing;
