#!/usr/bin/perl
# The JWKS cache expires (issue 7, finding 10a): the RP keeps the provider's
# keys for the JWKS response's Cache-Control max-age, clamped to
# [OIDC_JWKS_TTL_MIN, OIDC_JWKS_TTL_MAX] (default OIDC_JWKS_TTL_DEFAULT
# without one; t/unit/oidc_cache.c checks the arithmetic).
#  1. The provider sends max-age=1: a login fetches the keys once.
#  2. A login at once after: no fetch (cached until the floor).
#  3. Once the floor has passed since that fetch, the next login fetches
#     the keys again although every kid is known.
# Takes a little over a minute: step 3 waits out the floor.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

# The floor, from the header that defines it (60 s when it cannot be read).
my $FLOOR = 60;
for my $h (glob 'lib/oidc*.h') {
    open(my $fh, '<', $h) or next;
    for (<$fh>) { $FLOOR = $1 if /^#define\s+OIDC_JWKS_TTL_MIN\s+(\d+)/ }
}
ok($FLOOR >= 10 && $FLOOR <= 120, "the JWKS cache floor is $FLOOR s");

my $idp = BadIdP->start;
my $s = $idp->stack;
sub jwks_hits { $idp->hits('/jwks') }

# 1.
$idp->mode('good', jwks_max_age => 1);
$idp->logs_in($s, 'first login') or do { done_testing; exit 1 };
my $h0 = jwks_hits();
is($h0, 1, 'the keys were fetched once');

# 2.
$idp->logs_in($s, 'second login at once');
is(jwks_hits(), $h0, 'no fetch: max-age=1 is raised to the floor');

# 3.
my $end = time + $FLOOR + 30;
while (($idp->stats->{jwks_ms_ago} // 0) < ($FLOOR + 2) * 1000) {
    if (time > $end) { fail('waiting for the floor'); last }
    sleep 1;
}
$idp->logs_in($s, 'login after the cache expired');
is(jwks_hits(), $h0 + 1, 'the expired keys were fetched again');
done_testing;
