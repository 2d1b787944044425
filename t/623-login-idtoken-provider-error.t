#!/usr/bin/perl
# A provider hiccup must not lock people out. The bad provider's token
# endpoint answers 500 once: that login fails cleanly (an error page, no
# session), and the very next login with a good ID token succeeds, without
# waiting for the JWKS refetch interval (OIDC_JWKS_REFETCH_MIN): the keys the
# RP already holds are still the provider's keys.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my $idp = BadIdP->start;
my $s = SP::Stack->new(workers => 0,
    env => { SPIDERPIG_LOGIN_RATE => '100r/s', SPIDERPIG_LOGIN_BURST => 1000 },
    oidc => { issuer => $idp->issuer, client_secret => $idp->client_secret });

sub sessions { BadIdP::sessions($s) }

sub logs_in { $idp->logs_in($s, $_[0]) }

logs_in('good token') or do { diag('no baseline login; stopping'); done_testing; exit 1 };

$idp->mode('token_error');
my $n0 = sessions();
my $r = BadIdP::login_round($s);
my $st = $r->{callback}{status} // 0;
ok(!$r->{error} && $st >= 400 && $st != 429, "token endpoint 500: the login fails with an error page ($st)");
like($r->{callback}{headers}{'content-type'} // '', qr{^text/html|^application/problem\+json}, 'an HTML page or a problem document');
ok(!defined $r->{session}, 'no session cookie');
is(sessions(), $n0, 'no session row');

$idp->mode('good');
logs_in('good token right after the hiccup');
logs_in('and another');

done_testing;
