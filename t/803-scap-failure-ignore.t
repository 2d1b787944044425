#!/usr/bin/perl
# "ignore" at scap's failure prompt: scap goes on to production and the
# deployment ends done, with the answer in the audit trail.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('failure');
my $s = $t->stack;
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');
$t->answer($id, $t->prompt($id), 'y');
my $p = $t->prompt($id);
$t->answer($id, $p, 'i');
$s->wait_state($id, 'done', 30);
pass('ignored: scap went on and the deployment is done');
is($t->states($id)->[-1], 'syncing_production', 'production was the last step');
my $ev = $s->sql(q{select actor, details->>'answer' as a from spiderpig.events
    where deployment_id = $1 and action = 'answer' and (details->>'prompt')::bigint = $2},
    $id, $p->{id})->[0];
is_deeply([$ev->{actor}, $ev->{a}], ['alice', 'i'], 'who ignored the failure is recorded');
done_testing;
