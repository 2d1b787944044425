#!/usr/bin/perl
# A deployment walks every state through the SQL functions alone, writing an
# event for each change, and the queue behind it moves up.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(walk_stages open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(alice bob);
my $a = $s->sql(q{select * from spiderpig.enqueue('alice', array['12345','https://gerrit.example.org/r/c/mediawiki/core/+/678'])})->[0];
my $b = $s->sql(q{select * from spiderpig.enqueue('bob', array['111'])})->[0];
is($a->{state}, 'queued', 'first deployment is queued');
is($a->{position}, 1, 'first is at position 1');
is($b->{position}, 2, 'second is at position 2');

is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, $a->{id}, 'head is offered');
is($s->sql('select position from spiderpig.deployments where id=$1', $b->{id})->[0]{position}, 1, 'next moves to position 1');
is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, undef, 'nothing else is offered while one is active');

my $p = open_prompt($s, $a->{id});
is($p->{kind}, 'ready', 'ready prompt asked');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $a->{id}, $p->{id}, 'yes');
is(walk_stages($s, $a->{id}, 'w1'), 'awaiting_continue', 'merge, sync test, smoke test run, then it asks to continue');
my $touched = $s->sql('select touched_stages from spiderpig.deployments where id=$1', $a->{id})->[0]{touched_stages};
is_deeply($touched, ['sync_test'], 'sync_test recorded as touched');

$p = open_prompt($s, $a->{id});
is($p->{kind}, 'continue', 'continue prompt asked');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $a->{id}, $p->{id}, 'yes');
is(walk_stages($s, $a->{id}, 'w1'), 'awaiting_finish', 'canary sync, canary check, production sync, then finish prompt');

$p = open_prompt($s, $a->{id});
is($p->{kind}, 'finish', 'finish prompt asked');
is_deeply($p->{choices}, ['finish', 'rollback'], 'finish offers finish or rollback');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $a->{id}, $p->{id}, 'finish');
my $row = $s->sql('select * from spiderpig.deployments where id=$1', $a->{id})->[0];
is($row->{state}, 'done', 'done after finish');
ok($row->{finished_at}, 'finished_at set');
is($row->{worker_id}, undef, 'no worker holds a finished row');

my @actions = map { $_->{action} } @{ $s->sql('select action from spiderpig.events where deployment_id=$1 order by id', $a->{id}) };
is($actions[0], 'enqueued', 'first event is the enqueue');
is($actions[-1], 'done', 'last event is done');
is(scalar(grep { $_ eq 'stage_started' } @actions), 6, 'six stages started');
is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, $b->{id}, 'the queue is free for the next deployment');
done_testing;
