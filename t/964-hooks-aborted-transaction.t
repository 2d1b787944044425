#!/usr/bin/perl
# The outbox is written in the transaction that makes the change: a
# change that is rolled back announces nothing, and the next committed one
# is announced alone. A change an admin makes by hand in psql, with the
# default search_path, is written (and announced) the same way.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use Time::HiRes qw(sleep);

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100, backoff_max_ms => 1000 });
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port);

my $dbh = $s->dbh;
$dbh->begin_work;
$dbh->do(q{select spiderpig.freeze('root', 'never happened')});
is($dbh->selectrow_array(q{select count(*) from spiderpig.hook_outbox}), 1,
    'inside the transaction the row is there');
$dbh->rollback;
is($s->sql(q{select count(*) as n from spiderpig.hook_outbox})->[0]{n}, 0,
    'rolled back: no outbox row');

$s->sql(q{select spiderpig.freeze('root', 'this one did')});
my $req = $r->wait_for(sub { @_ >= 1 }, 30, 'an announcement');
sleep 1;
$req = $r->requests;
is(scalar @$req, 1, 'only the committed freeze is announced');
is($req->[0]{json}{reason}, 'this one did', 'the committed one');

$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select (spiderpig.enqueue('alice', '{9}')).id})->[0]{id};
$dbh->do(q{set search_path = "$user", public});
my $ok = eval {
    $dbh->do(q{update spiderpig.deployments set state = 'cancelled', position = null,
        finished_at = now() where id = ?}, undef, $id);
    1;
};
ok($ok, 'a hand edit of a deployment in psql is not refused') or diag $@;
$req = $r->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ }, 30,
    'the finished event') if $ok;
is($req->[-1]{json}{state}, 'cancelled', 'and is announced');
done_testing;
