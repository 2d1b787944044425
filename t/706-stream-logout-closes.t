#!/usr/bin/perl
# Logging a user out closes that user's sockets (4001 "signed out"), and
# "log out everyone" closes every socket: the sockets were let in by a
# session or token that the gate would now check again. A role change
# closes the user's sockets too (4001, "reconnect").
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my %tok = map { $_ => $s->user($_) } qw(alice bob carol);
my @sockets = map { { name => $_, token => $tok{$_} } } qw(alice bob carol);

my $c = $st->spawn('closes.js', $st->opts(sockets => \@sockets,
    expect_closed => ['alice'], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.logout_user('root', 'alice')});
my $r = $st->result($c, 30);
is($r->{alice}{code}, 4001, "logout_user closes alice's socket with 4001");
is($r->{alice}{reason}, 'signed out', '... saying why');
cmp_ok($r->{alice}{ms} // 1e9, '<', 3000, "... $r->{alice}{ms} ms after the logout was sent");
ok(!defined $r->{bob}{code} && !defined $r->{carol}{code}, "the others' sockets stay open");

$c = $st->spawn('closes.js', $st->opts(sockets => \@sockets,
    expect_closed => [qw(alice bob carol)], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.logout_all('root')});
$r = $st->result($c, 30);
for my $n (qw(alice bob carol)) {
    is($r->{$n}{code}, 4001, "log out everyone closes $n\'s socket");
    cmp_ok($r->{$n}{ms} // 1e9, '<', 3000, "... within $r->{$n}{ms} ms");
}

# A role change: what the socket may see was decided under the old role.
$c = $st->spawn('closes.js', $st->opts(sockets => \@sockets,
    expect_closed => ['bob'], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.add_user('root', 'bob', 'admin')});
$r = $st->result($c, 30);
is($r->{bob}{code}, 4001, "a role change closes bob's socket");
is($r->{bob}{reason}, 'role changed: reconnect', '... asking to reconnect');
ok(!defined $r->{alice}{code} && !defined $r->{carol}{code}, "the others' sockets stay open");
done_testing;
