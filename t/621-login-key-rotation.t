#!/usr/bin/perl
# Provider key rotation and unknown kids (lib/oidc_jwt.h: one JWKS refetch on an
# unknown kid, at most one fetch per OIDC_JWKS_REFETCH_MIN seconds).
#  1. A good login: the RP learns the provider's JWKS.
#  2. Once the refetch interval has passed since the RP's last /jwks fetch,
#     the provider rotates to a new key: the first token signed with the new
#     kid logs in, after exactly one JWKS refetch.
#  3. Another token with the new kid: no fetch at all (cached).
#  4. A burst of tokens whose kid is in no JWKS: every one refused, no
#     session, and at most one /jwks fetch for the whole burst.
#  5. A good token still logs in (the burst did not break the key cache).
# Takes a little over a minute: step 2 has to wait out the refetch interval.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my ($REFETCH_MIN) = do {
    open(my $fh, '<', 'lib/oidc_jwt.h') or die "lib/oidc_jwt.h: $!";
    map { /^#define\s+OIDC_JWKS_REFETCH_MIN\s+(\d+)/ ? $1 : () } <$fh>;
};
ok($REFETCH_MIN && $REFETCH_MIN <= 120, "OIDC_JWKS_REFETCH_MIN is $REFETCH_MIN s")
    or BAIL_OUT('cannot read OIDC_JWKS_REFETCH_MIN from lib/oidc_jwt.h');
my $BURST = 5;

my $idp = BadIdP->start;
# Many logins from one address: lift the login pages' rate limit (a 429
# would look like a refusal; the subtests also check it is not one).
my $s = SP::Stack->new(workers => 0,
    env => { SPIDERPIG_LOGIN_RATE => '100r/s', SPIDERPIG_LOGIN_BURST => 1000 },
    oidc => { issuer => $idp->issuer, client_secret => $idp->client_secret });

sub sessions { BadIdP::sessions($s) }
sub jwks_hits { $idp->hits('/jwks') }

sub logs_in { $idp->logs_in($s, $_[0]) }

# 1.
logs_in('good token') or do { diag('no baseline login; stopping'); done_testing; exit 1 };
my $h0 = jwks_hits();
ok($h0 >= 1, "the RP fetched the JWKS ($h0 so far)");

# 2. Wait out the refetch interval (measured by the provider since the RP's
# last fetch), bounded.
my $end = time + $REFETCH_MIN + 30;
while (1) {
    my $ago = $idp->stats->{jwks_ms_ago} // 0;
    last if $ago >= ($REFETCH_MIN + 2) * 1000;
    if (time > $end) { fail('the RP keeps fetching the JWKS by itself'); last }
    sleep 1;
}
$h0 = jwks_hits();
my $st = $idp->mode('rotate');
my $new_kid = $st->{kids}[0];
logs_in('first token with the rotated key');
is($idp->stats->{last_kid}, $new_kid, 'that token carried the new kid');
is(jwks_hits(), $h0 + 1, 'after exactly one JWKS refetch');

# 3.
my $h1 = jwks_hits();
logs_in('second token with the rotated key');
is(jwks_hits(), $h1, 'no JWKS fetch for a known kid');

# 4.
$idp->mode('unknown_kid');
my $n0 = sessions();
my $t0 = $idp->stats->{tokens_issued};
my @status;
for my $i (1 .. $BURST) {
    my $r = BadIdP::login_round($s);
    push @status, $r->{error} ? "error: $r->{error}" : $r->{callback}{status};
    ok(!defined $r->{session}, "unknown kid #$i: no session cookie");
}
is(scalar(grep { /^4\d\d$/ && $_ != 429 } @status), $BURST,
    "all $BURST unknown-kid tokens refused with a 4xx") or diag("statuses: @status");
is($idp->stats->{tokens_issued}, $t0 + $BURST, 'each one was redeemed and verified by the RP');
is(sessions(), $n0, 'no session rows');
my $storm = jwks_hits() - $h1;
ok($storm <= 1, "at most one JWKS refetch for the whole burst (got $storm)");

# 5.
$idp->mode('good');
logs_in('good token after the burst');

done_testing;
