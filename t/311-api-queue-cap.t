#!/usr/bin/perl
# Issue 7, finding 9: one user cannot flood the queue. The 4th queued
# deployment of a user is refused with a 409 problem naming the limit
# (settings.max_queued_per_user, default 3); the refusal writes nothing;
# other users, a freed slot and a raised limit enqueue again. Admins are
# held to the same limit.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0);
my $alice = $s->user('alice', 'deployer');
my $bob = $s->user('bob', 'deployer');
my $root = $s->token('root');
my $change = 1000;
sub enqueue {
    my ($tok) = @_;
    return $s->api(POST => '/api/v1/deployments', token => $tok,
        json => { patches => [ '' . ++$change ] });
}
sub count { $s->sql(@_)->[0]{n} }
sub queued { count(q{select count(*)::int as n from spiderpig.deployments
    where requester = $1 and state = 'queued'}, $_[0]) }

my ($limit, $why) = try_sql($s, 'select max_queued_per_user as n from spiderpig.settings');
is($limit ? $limit->[0]{n} : $why, 3, 'the default limit is 3');
is(enqueue($alice)->{status}, 201, "alice's deployment $_ is queued") for 1 .. 3;

my $deployments = count('select count(*)::int as n from spiderpig.deployments');
my $events = count('select count(*)::int as n from spiderpig.events');
my $r = enqueue($alice);
is($r->{status}, 409, 'the 4th is refused with 409') or diag($r->{body});
like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'as a problem');
is($r->{json}{status}, 409, 'status in the problem');
is($r->{json}{detail}, 'you already have 3 deployments queued; the limit is 3',
    'detail names the count and the limit');
is(count('select count(*)::int as n from spiderpig.deployments'), $deployments,
    'the refusal leaves no row');
is(count('select count(*)::int as n from spiderpig.events'), $events, 'and no event');
is_deeply([map { $_->{position} } @{ $s->sql(q{select position from spiderpig.deployments
    where state = 'queued' order by position}) }], [1, 2, 3], 'the queue is untouched');

is(enqueue($bob)->{status}, 201, 'another user still enqueues');

# psql goes through the same function.
my (undef, $err) = try_sql($s, q{select spiderpig.enqueue('alice', array['9999'])});
like($err // 'succeeded', qr/^SP409: you already have 3 deployments queued; the limit is 3$/,
    'enqueue in psql is refused the same way');

# Admins are held to the limit too.
is(enqueue($root)->{status}, 201, "root's deployment $_ is queued") for 1 .. 3;
$r = enqueue($root);
is($r->{status}, 409, 'an admin\'s 4th is refused as well') or diag($r->{body});

# A cancelled deployment frees a slot.
my $first = $s->sql(q{select id from spiderpig.deployments where requester = 'alice'
    order by id limit 1})->[0]{id};
is($s->api(POST => "/api/v1/deployments/$first/cancel", token => $alice)->{status}, 200,
    'alice cancels one');
is(enqueue($alice)->{status}, 201, 'and may queue another');
is(enqueue($alice)->{status}, 409, 'but not one more');

# Only queued rows count: the one offered (awaiting_ready) leaves the queue.
$s->sql('select spiderpig.offer_next()');
is($s->sql(q{select requester from spiderpig.deployments where state = 'awaiting_ready'})
    ->[0]{requester}, 'alice', "alice's head of the queue is offered");
is(queued('alice'), 2, 'alice has 2 left in the queue');
is(enqueue($alice)->{status}, 201, 'so she may queue a third');

# An admin (a member of spiderpig_admin) changes the limit in psql;
# nonsense values are refused.
my $dbh = $s->dbh;
$dbh->begin_work;
$dbh->do('set local role spiderpig_admin');
$dbh->do('update spiderpig.settings set max_queued_per_user = 4');
$dbh->commit;
is(enqueue($alice)->{status}, 201, 'a raised limit lets a 4th in');
$r = enqueue($alice);
is($r->{json}{detail}, 'you already have 4 deployments queued; the limit is 4',
    'the detail follows the setting');
$s->sql('update spiderpig.settings set max_queued_per_user = 1');
is(enqueue($bob)->{json}{detail}, 'you already have 1 deployment queued; the limit is 1',
    'singular for one');
for my $bad (0, -1) {
    my (undef, $e) = try_sql($s, 'update spiderpig.settings set max_queued_per_user = $1', $bad);
    like($e // 'accepted', qr/^23514:/, "a limit of $bad is refused");
}
(undef, $err) = try_sql($s, 'update spiderpig.settings set max_queued_per_user = null');
like($err // 'accepted', qr/^23502:/, 'and no limit at all');
# Ten requests of one user at once: the count is taken under the queue
# lock, so exactly the limit gets in.
$s->sql('update spiderpig.settings set max_queued_per_user = 3');
my $carol = $s->user('carol', 'deployer');
delete $s->{http};    # each child opens its own connection
my @pids;
for my $i (1 .. 10) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $st = $s->api(POST => '/api/v1/deployments', token => $carol,
            json => { patches => [ '' . (50000 + $i) ] })->{status};
        POSIX::_exit($st == 201 ? 0 : $st == 409 ? 1 : 2);
    }
    push @pids, $pid;
}
my %got;
for (@pids) { waitpid($_, 0); $got{$? >> 8}++ }
is_deeply(\%got, { 0 => 3, 1 => 7 }, 'ten at once: 3 queued, 7 refused with 409');
is(queued('carol'), 3, 'carol has exactly 3 queued');
done_testing;
