#!/usr/bin/perl
# Banning a user closes their open sockets at once (4003 "banned", well
# within a second on an idle machine; asserted under 3 s here), not the
# sockets of anybody else. The ban's NOTIFY (sql/009, spiderpig_auth) wakes
# the daemon.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my %tok = map { $_ => $s->user($_) } qw(alice bob);
my $c = $st->spawn('closes.js', $st->opts(
    sockets => [ { name => 'alice', token => $tok{alice} },
                 { name => 'alice2', token => $s->token('alice') },
                 { name => 'bob', token => $tok{bob} } ],
    expect_closed => [ 'alice', 'alice2' ], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.ban_user('root', 'alice', 'test')});
my $r = $st->result($c, 30);
note(explain($r));
for my $n (qw(alice alice2)) {
    is($r->{$n}{code}, 4003, "$n\'s socket closed with 4003") or next;
    is($r->{$n}{reason}, 'banned', '... saying why');
    cmp_ok($r->{$n}{ms}, '<', 3000, "... $r->{$n}{ms} ms after the ban was sent");
}
is($r->{bob}{code}, undef, "bob's socket stays open");
done_testing;
