#!/usr/bin/perl
# Identity rests on the provider's issuer + sub, not on preferred_username
# (issue 7, finding 3):
#  1. The first login of a sub binds its name: an identities row (issuer,
#     sub, name).
#  2. Another sub presenting that taken name is refused: a 403 HTML page
#     that says the name belongs to another account, no session, and a
#     login_refused event naming the sub.
#  3. The bound sub still signs in, as its bound name even when the
#     provider now calls it something else.
#  4. A name made in psql and bound to no sub (a CI account, or a user from
#     before identities) is bound by the first login presenting it while
#     the setting bind_existing_at_login is on (the default, for upgrades);
#     with it off, that login is refused (403, login_refused event
#     unbound_name) until an admin binds the name with bind_identity.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my $idp = BadIdP->start;
my $s = $idp->stack;
sub sessions { BadIdP::sessions($s) }

# 1.
$idp->mode('good', username => 'alice', sub => 'sub-alice-1', groups => ['deployers']);
$idp->logs_in($s, 'alice (sub-alice-1), first login');
is_deeply($s->sql('select issuer, subject, username from spiderpig.identities'),
    [{ issuer => $idp->issuer, subject => 'sub-alice-1', username => 'alice' }],
    'the name alice is bound to the issuer and sub-alice-1');

# 2.
$idp->mode('good', username => 'alice', sub => 'sub-impostor', groups => ['deployers']);
my $n0 = sessions();
my $r = BadIdP::login_round($s);
my $cb = $r->{callback} // {};
is($cb->{status}, 403, 'another sub with the taken name: 403') or diag($r->{error} // $cb->{content});
like($cb->{headers}{'content-type'} // '', qr{^text/html}, 'an HTML page');
like($cb->{content} // '', qr/already belongs to another account/, 'saying the name is taken');
unlike($cb->{content} // '', qr/<script/i, 'nothing unescaped from the provider');
ok(!defined $r->{session}, 'no session cookie');
is(sessions(), $n0, 'no session row');
my $ev = $s->sql(q{select actor, details from spiderpig.events
    where action = 'login_refused' order by id});
is(scalar @$ev, 1, 'one login_refused event');
like($ev->[0]{details} // '', qr/sub-impostor/, 'naming the refused sub') or diag explain $ev;
like($ev->[0]{details} // '', qr/name_taken/, 'and the reason');

# 3.
$idp->mode('good', username => 'alice-renamed', sub => 'sub-alice-1', groups => ['deployers']);
$idp->logs_in($s, 'the bound sub under a new preferred_username');
is_deeply($s->sql(q{select name from spiderpig.users where name like 'alice%' order by name}),
    [{ name => 'alice' }], 'still alice: no user alice-renamed was made');

# The session is alice's.
my $last = $s->sql('select username from spiderpig.sessions order by id desc limit 1');
is($last->[0]{username}, 'alice', 'the new session belongs to alice');

# 4.
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(carol dave);
$idp->mode('good', username => 'carol', sub => 'sub-carol', groups => ['deployers']);
$idp->logs_in($s, 'carol, made in psql, with bind_existing_at_login on');
is_deeply($s->sql(q{select subject from spiderpig.identities where username = 'carol'}),
    [{ subject => 'sub-carol' }], 'binds carol to that sub');
$s->sql(q{update spiderpig.settings set bind_existing_at_login = false});
$idp->mode('good', username => 'dave', sub => 'sub-dave', groups => ['deployers']);
$n0 = sessions();
$r = BadIdP::login_round($s);
is(($r->{callback} // {})->{status}, 403, 'dave, made in psql, with it off: 403');
like(($r->{callback} // {})->{content} // '', qr/not yet linked/, 'saying the name is not linked yet');
is(sessions(), $n0, 'no session row');
like($s->sql(q{select details::text as d from spiderpig.events
    where action = 'login_refused' order by id desc limit 1})->[0]{d}, qr/unbound_name/,
    'a login_refused event (unbound_name)');
$s->sql('select spiderpig.bind_identity($1, $2, $3, $4)', 'root', 'dave', $idp->issuer, 'sub-dave');
$idp->logs_in($s, 'dave after an admin bound him');
done_testing;
