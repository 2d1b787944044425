#!/usr/bin/perl
# root is the bootstrap admin's name (issue 7, finding 3):
#  1. A provider account calling itself root, in the admin group, is refused
#     (403 page, login_refused event) while root is bound to no sub and the
#     setting bind_root_at_login is off (the default).
#  2. An admin in psql binds root to a sub with spiderpig.bind_identity;
#     that sub then signs in as root (admin) and any other sub calling
#     itself root is still refused.
#  3. With bind_root_at_login on (make run and the tests with the bundled
#     provider), the first login of root binds it; a second sub is refused.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my $idp = BadIdP->start;
my $s = $idp->stack;
sub sessions { BadIdP::sessions($s) }

sub refused {
    my ($what, $pattern) = @_;
    my $n0 = sessions();
    my $r = BadIdP::login_round($s);
    my $cb = $r->{callback} // {};
    is($cb->{status}, 403, "$what: 403") or diag($r->{error} // $cb->{content});
    like($cb->{content} // '', $pattern, "$what: the page says why");
    is(sessions(), $n0, "$what: no session row");
}

# 1.
$idp->mode('good', username => 'root', sub => 'sub-evil-root', groups => ['sre-admins']);
refused('an unbound provider account named root', qr/reserved/);
my $ev = $s->sql(q{select details::text as d from spiderpig.events where action = 'login_refused'});
is(scalar @$ev, 1, 'a login_refused event');
like($ev->[0]{d} // '', qr/sub-evil-root/, 'naming the sub');
is($s->sql(q{select count(*)::int as n from spiderpig.identities where username = 'root'})->[0]{n},
    0, 'root is still bound to nobody');

# 2.
$s->sql('select spiderpig.bind_identity($1, $2, $3, $4)', 'root', 'root', $idp->issuer, 'sub-real-root');
$idp->mode('good', username => 'root', sub => 'sub-real-root', groups => ['sre-admins']);
$idp->logs_in($s, 'root with the sub an admin bound');
$idp->mode('good', username => 'root', sub => 'sub-evil-root', groups => ['sre-admins']);
refused('another sub named root after the binding', qr/already belongs to another account/);

# 3.
my $s2 = $idp->stack(settings => { bind_root_at_login => 'true' });
$idp->mode('good', username => 'root', sub => 'sub-first-root', groups => ['sre-admins']);
$idp->logs_in($s2, 'the first root login with bind_root_at_login');
is_deeply($s2->sql(q{select subject from spiderpig.identities where username = 'root'}),
    [{ subject => 'sub-first-root' }], 'binds root to that sub');
$idp->mode('good', username => 'root', sub => 'sub-second-root', groups => ['sre-admins']);
my $r = BadIdP::login_round($s2);
is(($r->{callback} // {})->{status}, 403, 'a second sub named root is refused');
done_testing;
