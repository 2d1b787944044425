#!/usr/bin/perl
# A freeze stops new deployments from starting; the active one continues;
# lifting it (by hand or by its end time) lets the queue move again.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql walk_stages open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $d1 = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0]{id};
my $d2 = $s->sql(q{select * from spiderpig.enqueue('alice', array['2'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d1, open_prompt($s, $d1)->{id}, 'yes');

$s->sql(q{select spiderpig.freeze('root', 'train deploy in progress')});
my ($r, $err) = try_sql($s, q{select spiderpig.freeze('root', 'again')});
like($err, qr/^SP409: .*already frozen/, 'a second freeze is refused');
is(walk_stages($s, $d1, 'w1'), 'awaiting_continue', 'the active deployment continues while frozen');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d1, open_prompt($s, $d1)->{id}, 'yes');
walk_stages($s, $d1, 'w1');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d1, open_prompt($s, $d1)->{id}, 'finish');
is($s->sql('select state from spiderpig.deployments where id=$1', $d1)->[0]{state}, 'done', 'and finishes');

is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, undef, 'nothing new starts while frozen');
my $d3 = $s->sql(q{select * from spiderpig.enqueue('alice', array['3'])})->[0];
is($d3->{position}, 2, 'but deployers can still join the queue');

$s->sql(q{select spiderpig.unfreeze('root')});
is($s->sql('select spiderpig.offer_next() as id')->[0]{id}, $d2, 'after unfreeze the head is offered');

# Frozen after the offer: answering "ready" is refused until the freeze ends.
$s->sql(q{select spiderpig.freeze('root', 'outage', now() + interval '2 seconds')});
($r, $err) = try_sql($s, 'select spiderpig.answer($1,$2,$3,$4)', 'alice', $d2, open_prompt($s, $d2)->{id}, 'yes');
like($err, qr/^SP409: deployments are frozen by root: outage/, 'ready is refused while frozen');
sleep 3;
($r, $err) = try_sql($s, 'select spiderpig.answer($1,$2,$3,$4)', 'alice', $d2, open_prompt($s, $d2)->{id}, 'yes');
is($err, undef, 'a freeze with an end time lifts itself');
my @ev = map { $_->{action} } @{ $s->sql(q{select action from spiderpig.events where deployment_id is null order by id}) };
ok((grep { $_ eq 'freeze' } @ev) == 2 && (grep { $_ eq 'unfreeze' } @ev) == 1, 'freeze and unfreeze are audited');
done_testing;
