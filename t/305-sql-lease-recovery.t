#!/usr/bin/perl
# Leases: only one worker holds a runnable deployment; when the holder stops
# renewing mid-stage another worker's claim turns it into a rollback of the
# stages touched; a deployment waiting at a prompt is not claimable.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $d = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
is($s->sql(q{select (spiderpig.claim_next('w1', '30 s')).id})->[0]{id}, undef, 'a row waiting at a prompt is not claimable');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d, open_prompt($s, $d)->{id}, 'yes');

my $claim = sub { $s->sql(q{select * from spiderpig.claim_next($1, '30 s')}, $_[0])->[0] };
is($claim->('w1')->{id}, $d, 'w1 claims');
is($claim->('w2')->{id}, undef, 'w2 cannot claim while w1 holds the lease');
$s->sql(q{select spiderpig.stage_begin($1, 'w1')}, $d);
$s->sql(q{select spiderpig.stage_done($1, 'w1', true, 'ok')}, $d);
$s->sql(q{select spiderpig.stage_begin($1, 'w1')}, $d);   # syncing_test in flight
is($s->sql(q{select spiderpig.heartbeat('w1', $1, '30 s') as st}, $d)->[0]{st}, 'syncing_test', 'heartbeat returns the state');

# w1 dies: its lease runs out.
$s->sql(q{update spiderpig.deployments set lease_expires_at = now() - interval '1 s' where id=$1}, $d);
my $row = $claim->('w2');
is($row->{id}, $d, 'w2 claims the expired lease');
is($row->{state}, 'rolling_back', 'an interrupted stage becomes a rollback');
is_deeply($row->{touched_stages}, ['sync_test'], 'the rollback covers the stage that was syncing');
is($s->sql(q{select spiderpig.heartbeat('w1', $1, '30 s') as st}, $d)->[0]{st}, undef, 'the old worker has lost its lease');
is($s->sql(q{select spiderpig.stage_done($1, 'w1', true, 'late') as st}, $d)->[0]{st}, undef, 'and cannot finish the stage');
is($s->sql(q{select spiderpig.rollback_done($1, 'w2', true, 'ok') as st}, $d)->[0]{st}, 'awaiting_ack', 'w2 rolls back');
like($s->sql(q{select details->>'previous_worker' as w from spiderpig.events where deployment_id=$1 and action='claimed' order by id desc limit 1}, $d)->[0]{w}, qr/^w1$/, 'the takeover is audited');
done_testing;
