#!/usr/bin/perl
# Every refused state change says why, with a status-like SQLSTATE, and
# changes nothing.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql open_prompt walk_stages);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(alice bob mallory);
$s->sql(q{select spiderpig.ban_user('root', 'mallory', 'test')});

sub refused {
    my ($want, $name, $sql, @b) = @_;
    my ($rows, $err) = try_sql($s, $sql, @b);
    like($err // 'succeeded', qr/^\Q$want\E:/, $name) or diag($err);
}

my $events = sub { $s->sql('select count(*) as n from spiderpig.events')->[0]{n} };
my $before = $events->();
refused('SP401', 'unknown user cannot enqueue', q{select spiderpig.enqueue('nobody', array['1'])});
refused('SP403', 'banned user cannot enqueue', q{select spiderpig.enqueue('mallory', array['1'])});
refused('SP400', 'no patches', q{select spiderpig.enqueue('alice', array[]::text[])});
refused('SP400', '21 patches', q{select spiderpig.enqueue('alice', (select array_agg(g::text) from generate_series(1,21) g))});
refused('SP400', 'shell metacharacters', q{select spiderpig.enqueue('alice', array['1; rm -rf /'])});
refused('SP400', 'leading zero', q{select spiderpig.enqueue('alice', array['0123'])});
refused('SP400', 'http, not https', q{select spiderpig.enqueue('alice', array['http://gerrit/r/123'])});
refused('SP400', 'same change twice', q{select spiderpig.enqueue('alice', array['123', 'https://g.example/r/123'])});
is($events->(), $before, 'refused enqueues wrote no event');
is($s->sql('select count(*) as n from spiderpig.deployments')->[0]{n}, 0, 'and no deployment');

my $d = $s->sql(q{select * from spiderpig.enqueue('alice', array['42'])})->[0];
refused('SP403', 'someone else cannot cancel', 'select spiderpig.cancel($1,$2)', 'bob', $d->{id});
refused('SP404', 'unknown deployment', 'select spiderpig.cancel($1,$2)', 'alice', 999);
refused('SP409', 'nothing to roll back while queued', 'select spiderpig.request_rollback($1,$2,$3)', 'alice', $d->{id}, 'x');
refused('SP403', 'deployer cannot freeze', q{select spiderpig.freeze('alice', 'x')});
refused('SP403', 'deployer cannot reorder', 'select spiderpig.move($1,$2,$3)', 'alice', $d->{id}, 1);
refused('SP400', 'position out of range', 'select spiderpig.move($1,$2,$3)', 'root', $d->{id}, 5);

$s->sql('select spiderpig.offer_next()');
my $p = open_prompt($s, $d->{id});
refused('SP403', 'someone else cannot answer', 'select spiderpig.answer($1,$2,$3,$4)', 'bob', $d->{id}, $p->{id}, 'yes');
refused('SP400', 'answer outside the choices', 'select spiderpig.answer($1,$2,$3,$4)', 'alice', $d->{id}, $p->{id}, 'maybe');
refused('SP404', 'prompt of another deployment', 'select spiderpig.answer($1,$2,$3,$4)', 'alice', $d->{id}, $p->{id} + 100, 'yes');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $d->{id}, $p->{id}, 'yes');
refused('SP409', 'answering twice', 'select spiderpig.answer($1,$2,$3,$4)', 'alice', $d->{id}, $p->{id}, 'yes');
refused('SP409', 'cancelling a running deployment', 'select spiderpig.cancel($1,$2)', 'alice', $d->{id});
refused('SP409', 'moving a running deployment', 'select spiderpig.move($1,$2,$3)', 'root', $d->{id}, 1);

is(walk_stages($s, $d->{id}, 'w1'), 'awaiting_continue', 'reaches the continue prompt');
$s->sql('select spiderpig.request_rollback($1,$2,$3)', 'alice', $d->{id}, 'changed my mind');
refused('SP409', 'second rollback request', 'select spiderpig.request_rollback($1,$2,$3)', 'alice', $d->{id}, 'again');
is($s->sql('select state from spiderpig.deployments where id=$1', $d->{id})->[0]{state}, 'rolling_back', 'still rolling back');
done_testing;
