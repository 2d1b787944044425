#!/usr/bin/perl
# "ignore" at scap's failure prompt is an admin's call, as at the built-in
# one: the requester is refused with 403; an admin's ignore lets scap go on
# to production and the deployment ends done, with the answer in the audit
# trail.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('failure');
my $s = $t->stack;
my $root = $s->token('root');
my $id = $t->start;
$t->answer($id, $t->prompt($id), 'y');
$t->answer($id, $t->prompt($id), 'y');
my $p = $t->prompt($id);
is($p->{scap_role}, 'failure', 'recognised as the failure prompt');
my $r = $s->api(POST => "/api/v1/deployments/$id/answer", token => $t->{token},
    json => { prompt => $p->{id} + 0, answer => 'i' });
is($r->{status}, 403, 'the requester may not ignore a failed step');
like($r->{json}{detail} // '', qr/only an admin may ignore/, 'and is told why');
$r = $s->api(POST => "/api/v1/deployments/$id/answer", token => $root,
    json => { prompt => $p->{id} + 0, answer => 'i' });
is($r->{status}, 200, 'an admin may');
$s->wait_state($id, 'done', 30);
pass('ignored: scap went on and the deployment is done');
is($t->states($id)->[-1], 'syncing_production', 'production was the last step');
my $ev = $s->sql(q{select actor, details->>'answer' as a from spiderpig.events
    where deployment_id = $1 and action = 'answer' and (details->>'prompt')::bigint = $2},
    $id, $p->{id})->[0];
is_deeply([$ev->{actor}, $ev->{a}], ['root', 'i'], 'who ignored the failure is recorded');
done_testing;
