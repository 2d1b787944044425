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

sub sessions { $s->sql('select count(*)::int as n from spiderpig.sessions')->[0]{n} }

sub logs_in {
    my ($what) = @_;
    my $n0 = sessions();
    my $r = BadIdP::login_round($s);
    my $cb = $r->{callback} // {};
    my $ok = ok(!$r->{error} && ($cb->{status} // 0) == 303
        && ($cb->{headers}{location} // '') =~ m{/totp} && defined $r->{session}
        && sessions() == $n0 + 1, "$what: logs in (303 to /totp, session cookie, session row)");
    unless ($ok) {
        diag($r->{error} // "callback answered $cb->{status}:\n" . substr($cb->{content} // '', 0, 1500));
        $idp->diag_log(20);
    }
    return $ok;
}

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
