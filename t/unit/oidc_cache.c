/* oidc_cache.c: how long the provider's keys are kept, from the JWKS
 * response's Cache-Control (oidc_jwks_ttl), and the refetch limit. */
#include <stdio.h>

#include "oidc_jwt.h"
#include "tap.h"

static void
ttl_is(const char *cc, long want, const char *what)
{
	long	got = oidc_jwks_ttl(cc);

	ok(got == want, "%s: \"%s\" -> %ld s (want %ld)", what,
	    cc ? cc : "(absent)", got, want);
}

int
main(void)
{
	ok(OIDC_JWKS_TTL_MIN >= OIDC_JWKS_REFETCH_MIN &&
	    OIDC_JWKS_TTL_MIN < OIDC_JWKS_TTL_DEFAULT &&
	    OIDC_JWKS_TTL_DEFAULT < OIDC_JWKS_TTL_MAX,
	    "floor %d <= default %d <= ceiling %d, floor >= refetch limit",
	    OIDC_JWKS_TTL_MIN, OIDC_JWKS_TTL_DEFAULT, OIDC_JWKS_TTL_MAX);
	ttl_is(NULL, OIDC_JWKS_TTL_DEFAULT, "no header: the default (1 h)");
	ttl_is("", OIDC_JWKS_TTL_DEFAULT, "empty header");
	ttl_is("public", OIDC_JWKS_TTL_DEFAULT, "no max-age");
	ttl_is("max-age=300", 300, "max-age honoured");
	ttl_is("public, max-age=7200, must-revalidate", 7200,
	    "max-age among other directives");
	ttl_is("Max-Age = 600", OIDC_JWKS_TTL_DEFAULT,
	    "spaces around = are not max-age");
	ttl_is("MAX-AGE=600", 600, "directive names are case-insensitive");
	ttl_is("max-age=\"900\"", 900, "a quoted value");
	ttl_is("max-age=1", OIDC_JWKS_TTL_MIN, "below the floor: the floor");
	ttl_is("max-age=0", OIDC_JWKS_TTL_MIN, "zero: the floor");
	ttl_is("max-age=31536000", OIDC_JWKS_TTL_MAX,
	    "a year: the ceiling");
	ttl_is("max-age=99999999999999999999999", OIDC_JWKS_TTL_MAX,
	    "an overflowing number: the ceiling");
	ttl_is("max-age=-5", OIDC_JWKS_TTL_DEFAULT, "negative: ignored");
	ttl_is("max-age=abc", OIDC_JWKS_TTL_DEFAULT, "not a number: ignored");
	ttl_is("max-age=", OIDC_JWKS_TTL_DEFAULT, "no value: ignored");
	ttl_is("no-store", OIDC_JWKS_TTL_MIN, "no-store: the floor");
	ttl_is("no-cache, max-age=3000", OIDC_JWKS_TTL_MIN,
	    "no-cache wins over max-age");
	ttl_is("s-maxage=5000", OIDC_JWKS_TTL_DEFAULT,
	    "s-maxage is for shared caches");
	ttl_is("x-max-age=5000", OIDC_JWKS_TTL_DEFAULT,
	    "a longer directive name is not max-age");

	ok(oidc_jwks_may_refetch(0, 1000), "never fetched: may fetch");
	ok(!oidc_jwks_may_refetch(1000, 1000 + OIDC_JWKS_REFETCH_MIN - 1),
	    "not again within the refetch limit");
	return tap_done();
}
