#!/usr/bin/perl
# Revoking one API token closes the sockets that token opened (4001
# "token revoked"), not the sockets its owner opened with another token,
# nor anybody else's. The revocation's NOTIFY (sql/020, spiderpig_auth,
# with the token's id) wakes the daemon; the gate told it each socket's
# token (X-Spiderpig-Token), replacing any the client sent: a forged one,
# with a token or a session, closes nothing. A psql edit of revoked_at
# counts the same.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $bob = $s->user('bob');
my $alice1 = $s->user('alice');
my $alice2 = $s->token('alice');
my $alice3 = $s->token('alice');

sub token_id {
    my ($tok) = @_;
    return $s->sql(q{select id from spiderpig.api_tokens
        where token_hash = decode($1, 'hex')}, sha256_hex($tok))->[0]{id};
}

my $bobsess = $s->sql(q{select spiderpig.create_session('bob') as t})->[0]{t};
my $forged = { 'X-Spiderpig-Token' => token_id($alice1) };
my @sockets = ({ name => 'alice1', token => $alice1 },
               { name => 'alice1b', token => $alice1 },
               { name => 'alice2', token => $alice2 },
               { name => 'alice3', token => $alice3 },
               { name => 'bob', token => $bob },
               { name => 'bob_forged', token => $bob, headers => $forged },
               { name => 'bob_session_forged', headers => { %$forged,
                   Cookie => "__Host-spiderpig_session=$bobsess" } });
my $c = $st->spawn('closes.js', $st->opts(sockets => \@sockets,
    expect_closed => ['alice1', 'alice1b'], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.revoke_token('alice', $1)}, token_id($alice1));
my $r = $st->result($c, 30);
note(explain($r));
for my $n (qw(alice1 alice1b)) {
    is($r->{$n}{code}, 4001, "revoking the token closes $n (opened with it) with 4001");
    is($r->{$n}{reason}, 'token revoked', '... saying why');
    cmp_ok($r->{$n}{ms} // 1e9, '<', 3000, '... within ' . ($r->{$n}{ms} // 'never') . ' ms');
}
for my $n (qw(alice2 alice3 bob)) {
    is($r->{$n}{code}, undef, "$n (another token) stays open");
}
is($r->{bob_forged}{code}, undef, "bob's token socket claiming alice's token id stays open");
is($r->{bob_session_forged}{code}, undef, "so does bob's session socket claiming it");

# An admin revoking it, and a psql edit, close it the same way.
@sockets = grep { $_->{name} =~ /^(alice2|alice3|bob)$/ } @sockets;
$c = $st->spawn('closes.js', $st->opts(sockets => \@sockets,
    expect_closed => ['alice2', 'alice3'], ms => 5000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
$s->sql(q{select spiderpig.revoke_token('root', $1)}, token_id($alice2));
$s->sql(q{update spiderpig.api_tokens set revoked_at = now() where id = $1},
    token_id($alice3));
$r = $st->result($c, 30);
note(explain($r));
is($r->{alice2}{code}, 4001, "an admin's revocation closes the token's socket");
is($r->{alice3}{code}, 4001, 'so does setting revoked_at in psql');
is($r->{bob}{code}, undef, "bob's socket stays open");
done_testing;
