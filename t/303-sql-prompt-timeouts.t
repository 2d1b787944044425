#!/usr/bin/perl
# Unanswered prompts take their default when they expire: ready -> expired
# (and the next one is offered), continue -> rollback, finish -> done,
# ack -> rolled back.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(walk_stages open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $state = sub { $s->sql('select state from spiderpig.deployments where id=$1', $_[0])->[0]{state} };
my $expire = sub { $s->sql(q{update spiderpig.prompts set expires_at = now() - interval '1 second' where deployment_id=$1 and answered_at is null}, $_[0]); $s->sql('select spiderpig.expire_prompts() as n')->[0]{n} };

my $d1 = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0]{id};
my $d2 = $s->sql(q{select * from spiderpig.enqueue('alice', array['2'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
is($s->sql('select spiderpig.expire_prompts() as n')->[0]{n}, 0, 'a fresh prompt does not expire');
is($expire->($d1), 1, 'one prompt expired');
is($state->($d1), 'expired', 'ready timeout expires the deployment');
ok($s->sql('select timed_out from spiderpig.prompts where deployment_id=$1', $d1)->[0]{timed_out}, 'prompt marked timed out');
is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, $d2, 'the next one is offered');

my $p = open_prompt($s, $d2);
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d2, $p->{id}, 'yes');
walk_stages($s, $d2, 'w1');
$expire->($d2);
is($state->($d2), 'rolling_back', 'continue timeout rolls back');
like($s->sql('select rollback_reason from spiderpig.deployments where id=$1', $d2)->[0]{rollback_reason}, qr/timed out/, 'the reason says it timed out');
is(walk_stages($s, $d2, 'w1'), 'awaiting_ack', 'rollback finishes at the acknowledgement prompt');
$expire->($d2);
is($state->($d2), 'rolled_back', 'ack timeout ends as rolled back');

my $d3 = $s->sql(q{select * from spiderpig.enqueue('alice', array['3'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d3, open_prompt($s, $d3)->{id}, 'yes');
walk_stages($s, $d3, 'w1');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d3, open_prompt($s, $d3)->{id}, 'yes');
is(walk_stages($s, $d3, 'w1'), 'awaiting_finish', 'reaches finish');
$expire->($d3);
is($state->($d3), 'done', 'finish timeout finishes');

my $t = $s->sql(q{select ready_timeout from spiderpig.settings})->[0]{ready_timeout};
is($t, '00:10:00', 'default ready timeout is 10 minutes');
done_testing;
