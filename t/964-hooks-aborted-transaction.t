#!/usr/bin/perl
# The outbox is written in the transaction that makes the change: a
# change that is rolled back announces nothing, and the next committed one
# is announced alone.
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
done_testing;
