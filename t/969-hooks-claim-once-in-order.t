#!/usr/bin/perl
# hooks_claim hands each row of a receiver to one sender at a time and in
# order: while one sender of the receiver holds the oldest row, a second
# gets nothing (neither that row nor the next), while another receiver's
# sender gets it all the same; a claimed row is not
# claimed again before its lease ends or its answer is recorded; rows
# outside the events filter are marked filtered, not sent; a late answer to
# an old attempt changes nothing; a new receiver gets what was queued
# from an hour before it registered; the retention prunes done rows and unseen receivers.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
my $conn = sub {
    DBI->connect('dbi:Pg:' . join(';', split / /, $s->conninfo('spiderpig_hooks')),
        '', '', { RaiseError => 1, PrintError => 0, AutoCommit => 1 }) or die $DBI::errstr;
};
my ($a, $b, $c) = ($conn->(), $conn->(), $conn->());
$s->sql(q{select spiderpig.freeze('root', 'before any receiver')});
$s->sql(q{select spiderpig.unfreeze('root')});
$s->sql(q{update spiderpig.hook_outbox set created_at = now() - interval '61 minutes'
    where id = (select min(id) from spiderpig.hook_outbox)});
$a->do(q{select spiderpig.hooks_register('chat', '{freeze,prompt}')});
is_deeply([ map { $_->{reason} } @{ $s->sql(q{select o.payload->>'reason' as reason
    from spiderpig.hook_deliveries d join spiderpig.hook_outbox o on o.id = d.outbox_id}) } ],
    ['before any receiver'], 'a new receiver gets what was queued in the hour before it registered, not before');
$s->sql(q{delete from spiderpig.hook_outbox});
# A second receiver, an IRC relay that wants only the freezes.
$c->do(q{select spiderpig.hooks_register('irc', '{freeze}')});
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
$s->sql(q{select spiderpig.freeze('root', 'one')});
$s->sql(q{select spiderpig.unfreeze('root')});
$s->sql(q{select spiderpig.enqueue('alice', '{5}')});
$s->sql(q{select spiderpig.offer_next()});    # a ready prompt
my @ids = map { $_->{id} } @{ $s->sql(q{select id from spiderpig.hook_outbox order by id}) };
is(scalar @ids, 3, 'freeze, unfreeze, the ready prompt');

my $claim = sub {
    $_[0]->selectrow_hashref(q{select * from spiderpig.hooks_claim('chat', 5, '1 hour')});
};

$a->begin_work;
my $ra = $claim->($a);
is($ra->{id}, $ids[0], 'sender A claims the oldest');
is($ra->{attempts}, 1, 'its first attempt');
my $rb = $claim->($b);
ok(!defined $rb, 'sender B, at the same moment, gets nothing: not the same row, not the next');
my $rc = $c->selectrow_hashref(q{select * from spiderpig.hooks_claim('irc', 5, '1 hour')});
is($rc && $rc->{id}, $ids[0], 'the other receiver\'s sender claims the same announcement meanwhile');
ok($c->selectrow_array(q{select spiderpig.hooks_delivered('irc', $1, 1)}, {}, $ids[0]),
    'and records its delivery');
is($s->sql(q{select status from spiderpig.hook_deliveries where receiver = 'irc' and outbox_id = $1},
    $ids[2])->[0]{status}, 'filtered', 'the prompt is filtered for the relay from the start');
$a->commit;
ok(!defined $claim->($b), 'after A\'s claim commits, B still gets nothing (the lease)');
ok($a->selectrow_array(q{select spiderpig.hooks_delivered('chat', $1, 1)}, {}, $ra->{id}),
    'A records the delivery');
ok(!$a->selectrow_array(q{select spiderpig.hooks_delivered('chat', $1, 1)}, {}, $ra->{id}),
    'recording it twice changes nothing');
$rb = $claim->($b);
is($rb->{id}, $ids[1], 'then B gets the next row');
ok($b->selectrow_array(q{select spiderpig.hooks_failed('chat', $1, 1, 'boom', 0)}, {}, $rb->{id}),
    'B records a failure, retry at once');
my $again = $claim->($a);
is($again->{id}, $ids[1], 'the failed row comes back before the newer one');
is($again->{attempts}, 2, 'as attempt 2');
ok(!$b->selectrow_array(q{select spiderpig.hooks_failed('chat', $1, 1, 'late', 0)}, {}, $rb->{id}),
    'a late answer to attempt 1 changes nothing');
ok($a->selectrow_array(q{select spiderpig.hooks_delivered('chat', $1, 2)}, {}, $again->{id}),
    'attempt 2 is recorded');

# The sender restarts with a filter without "prompt": the ready prompt's
# row is filtered, not sent.
$a->do(q{select spiderpig.hooks_register('chat', '{freeze}')});
ok(!defined $claim->($a), 'nothing to send for a freeze-only sender');
is($s->sql(q{select status from spiderpig.hook_deliveries where outbox_id = $1}, $ids[2])->[0]{status},
    'filtered', 'the prompt row is marked filtered');

is($a->selectrow_array(q{select spiderpig.hooks_prune(100)}), 0, 'nothing old enough to prune');
$s->sql(q{update spiderpig.hook_deliveries set done_at = now() - interval '15 days' where outbox_id = $1}, $ids[0]);
is($a->selectrow_array(q{select spiderpig.hooks_prune(100)}), 0,
    'a row done 15 days ago but created since stays');
$s->sql(q{update spiderpig.hook_outbox set created_at = now() - interval '15 days' where id = $1}, $ids[0]);
is($a->selectrow_array(q{select spiderpig.hooks_prune(100)}), 1,
    'a row created and done 15 days ago goes (retention 14 days)');
is($s->sql(q{select count(*) as n from spiderpig.hook_outbox})->[0]{n}, 2, 'the others stay');
$s->sql(q{update spiderpig.hook_receivers set last_seen = now() - interval '15 days'});
$a->selectrow_array(q{select spiderpig.hooks_prune(100)});
is($s->sql(q{select count(*) as n from spiderpig.hook_receivers})->[0]{n}, 0,
    'a receiver not seen for 15 days is dropped');
is($s->sql(q{select count(*) as n from spiderpig.hook_deliveries})->[0]{n}, 0,
    'with its deliveries');
ok(!eval { $claim->($a); 1 }, 'its sender\'s next claim fails: it registers again');
$_->disconnect for $a, $b, $c;
done_testing;
