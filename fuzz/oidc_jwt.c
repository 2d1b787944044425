/*
 * oidc_jwt: fuzz the OIDC parsers with arbitrary bytes: ID tokens, JWK
 * sets, discovery documents and (signed here, so the claim checks are
 * reached) ID token payloads. The first byte picks the mode:
 *   0  the rest is a compact JWT, verified against a fixed JWKS
 *   1  JWKS '\n' JWT: the JWKS is parsed, then the JWT verified with it
 *   2  the rest is a discovery document (strict and test mode), and
 *      also a JWKS response's Cache-Control value (oidc_jwks_ttl)
 *   3  the rest is a payload, signed with the fixed EC key and verified
 * Invariants (nothing accepted that should not be, claims complete when
 * accepted) abort(), so libFuzzer reports them as crashes.
 *
 * Fuzzing: `make fuzz` runs tools/fuzz, which builds every harness in
 * fuzz/ with the library sources (lib/NAME.c) and the Makefile's PKGS:
 *   clang -DSPIDERPIG_LIBFUZZER -fsanitize=fuzzer,address,undefined -Ilib
 *       fuzz/oidc_jwt.c lib/oidc_jwt.c lib/util.c ... $(pkg-config --cflags --libs $PKGS)
 * and runs each for FUZZ_SECONDS (default 60) seconds, with
 * fuzz/corpus/oidc_jwt/ as seeds; `FUZZ_SECONDS=600 make fuzz` for longer.
 * Without -DSPIDERPIG_LIBFUZZER this file has a main() that runs each file
 * (or every file in each folder) given as an argument, to replay a crash:
 *   cc -Ilib fuzz/oidc_jwt.c build/libspiderpig.a ... && ./a.out crash-...
 * t/unit/oidc_seeds.c includes this file with OIDC_FUZZ_NO_MAIN to run the
 * seed corpus under `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "oidc_jwt.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_NOW	1700000000	/* fixed clock: runs are repeatable */
#define FUZZ_ISSUER	"https://idp.example.org"
#define FUZZ_CLIENT	"spiderpig"
#define FUZZ_NONCE	"fuzz-nonce"

/* Test keys, not secrets: the EC key signs mode 3 payloads. */
static const char fuzz_ec_private[] = "{\"kty\":\"EC\",\"kid\":\"fuzz-ec\","
    "\"crv\":\"P-256\",\"x\":\"qQzyCMcNosAZAEG8rI-MZEeQdOwrrbWMkh68FvdwraA\","
    "\"y\":\"D8ffjYJsXpWTNApU1ti51se4WZDkOxSvNXE_caEWAN4\","
    "\"d\":\"OMIsNNjPp96BN0fcz9KSnZLrl7b_GzffK9C-FbmsT-8\"}";
static const char fuzz_jwks_text[] = "{\"keys\":[{\"kty\":\"EC\","
    "\"kid\":\"fuzz-ec\",\"crv\":\"P-256\",\"use\":\"sig\","
    "\"x\":\"qQzyCMcNosAZAEG8rI-MZEeQdOwrrbWMkh68FvdwraA\","
    "\"y\":\"D8ffjYJsXpWTNApU1ti51se4WZDkOxSvNXE_caEWAN4\"},"
    "{\"kty\":\"RSA\",\"kid\":\"fuzz-rsa\",\"e\":\"AQAB\",\"n\":\"zAjKUHKBs"
    "PRZ8QL_Yu7Uwq3CYyrdaaS9knZzGNW5ZCCK24jyb4qnHUe3Px_uN4HNpp5Hwqw34W-cBgM"
    "s6MDeE8mZxaEGkoSXAijl1Sdd9KEloDl5hHx1TsV4NiBOlGC7tKSALNHzla3jCoakblYUM"
    "Iqj31rcTQBWdnwq-qLc7oB86bla2aC1xKIQxtyBQVXmAnAhPF1VXARycm21e3nadKM8LXm"
    "PoU-7xw-uIgzu9ik-1F0KWFxy4ogqhOzekVIzMJLg_0FAWY_enN8w1WWE82fTlVIIWZBHz"
    "3vljZb59UABeoN6ae2Rh87bl5_CdJad6oV4rd-0ZlCFZwu4tPMuvw\"}]}";

static struct oidc_jwks	*fuzz_jwks;
static cjose_jwk_t	*fuzz_signer;

static void
fuzz_init(void)
{
	cjose_err	err;

	if (fuzz_jwks != NULL)
		return;
	fuzz_jwks = oidc_jwks_parse(fuzz_jwks_text, strlen(fuzz_jwks_text),
	    NULL, 0);
	fuzz_signer = cjose_jwk_import(fuzz_ec_private,
	    strlen(fuzz_ec_private), &err);
	if (fuzz_jwks == NULL || oidc_jwks_count(fuzz_jwks) != 2 ||
	    fuzz_signer == NULL)
		abort();
}

static struct oidc_expect
fuzz_expect(const char *nonce)
{
	struct oidc_expect e = {
		.issuer = FUZZ_ISSUER,
		.client_id = FUZZ_CLIENT,
		.nonce = nonce,
		.skew = 60,
	};

	return e;
}

/* Verify jwt; when accepted the claims must be complete, and the same
 * token must fail against another nonce. */
static enum oidc_result
fuzz_verify(const char *jwt, const struct oidc_jwks *jwks)
{
	struct oidc_expect	 e = fuzz_expect(FUZZ_NONCE);
	struct oidc_claims	 c;
	enum oidc_result	 r;
	char			 err[128];

	r = oidc_id_token_verify(jwt, jwks, &e, FUZZ_NOW, &c, err,
	    sizeof(err));
	if (r != OIDC_OK) {
		if (c.sub != NULL || c.username != NULL || c.groups.v != NULL)
			abort();
		return r;
	}
	if (c.sub == NULL || *c.sub == '\0' || c.username == NULL ||
	    c.exp <= FUZZ_NOW - 60 || c.iat > FUZZ_NOW + 60 ||
	    (c.groups.n > 0) != (c.groups.v != NULL))
		abort();
	oidc_claims_free(&c);
	e = fuzz_expect("another-nonce");
	if (oidc_id_token_verify(jwt, jwks, &e, FUZZ_NOW, &c, err,
	    sizeof(err)) != OIDC_BAD_NONCE)
		abort();
	return r;
}

static char *
fuzz_string(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void
fuzz_jwt(const uint8_t *data, size_t size)
{
	char	*s = fuzz_string(data, size);

	if (s == NULL)
		return;
	fuzz_verify(s, fuzz_jwks);
	free(s);
}

static void
fuzz_jwks_then_jwt(const uint8_t *data, size_t size)
{
	const uint8_t		*nl = memchr(data, '\n', size);
	struct oidc_jwks	*jwks;
	size_t			 jlen = nl ? (size_t)(nl - data) : size;
	char			*jwt;

	jwks = oidc_jwks_parse((const char *)data, jlen, NULL, 0);
	if (jwks == NULL)
		return;
	if (oidc_jwks_count(jwks) == 0 || oidc_jwks_count(jwks) > OIDC_MAX_KEYS)
		abort();
	if (nl != NULL && (jwt = fuzz_string(nl + 1, size - jlen - 1))) {
		fuzz_verify(jwt, jwks);
		free(jwt);
	}
	oidc_jwks_free(jwks);
}

static void
fuzz_discovery(const uint8_t *data, size_t size)
{
	struct oidc_discovery	*d;
	char			*cc;
	long			 ttl;
	int			 flags;

	if ((cc = fuzz_string(data, size)) != NULL) {
		ttl = oidc_jwks_ttl(cc);
		if (ttl < OIDC_JWKS_TTL_MIN || ttl > OIDC_JWKS_TTL_MAX)
			abort();
		free(cc);
	}

	for (flags = 0; flags <= OIDC_ALLOW_LOOPBACK_HTTP; flags++) {
		if (oidc_discovery_parse((const char *)data, size,
		    FUZZ_ISSUER, flags, &d, NULL, 0) == -1) {
			if (d != NULL)
				abort();
			continue;
		}
		if (strcmp(d->issuer, FUZZ_ISSUER) != 0 ||
		    d->authorization_endpoint == NULL ||
		    d->token_endpoint == NULL || d->jwks_uri == NULL)
			abort();
		if (flags == 0 && (strncmp(d->token_endpoint, "https://", 8) ||
		    strncmp(d->jwks_uri, "https://", 8) ||
		    strncmp(d->authorization_endpoint, "https://", 8)))
			abort();
		if (oidc_callback_iss_ok(d, "https://other.example"))
			abort();
		oidc_discovery_free(d);
	}
}

static void
fuzz_signed_payload(const uint8_t *data, size_t size)
{
	cjose_header_t	*h;
	cjose_jws_t	*jws = NULL;
	cjose_err	 err;
	const char	*ser;

	if (size > OIDC_MAX_JWT / 2)
		return;
	if ((h = cjose_header_new(&err)) == NULL)
		return;
	if (cjose_header_set(h, CJOSE_HDR_ALG, "ES256", &err) &&
	    cjose_header_set(h, CJOSE_HDR_KID, "fuzz-ec", &err) &&
	    (jws = cjose_jws_sign(fuzz_signer, h, data, size, &err)) != NULL &&
	    cjose_jws_export(jws, &ser, &err))
		fuzz_verify(ser, fuzz_jwks);
	cjose_jws_release(jws);
	cjose_header_release(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 2 * OIDC_MAX_JWKS)
		return 0;
	fuzz_init();
	switch (data[0] % 4) {
	case 0:
		fuzz_jwt(data + 1, size - 1);
		break;
	case 1:
		fuzz_jwks_then_jwt(data + 1, size - 1);
		break;
	case 2:
		fuzz_discovery(data + 1, size - 1);
		break;
	default:
		fuzz_signed_payload(data + 1, size - 1);
		break;
	}
	return 0;
}

#if !defined(SPIDERPIG_LIBFUZZER) && !defined(OIDC_FUZZ_NO_MAIN)
#include <stdio.h>

/* Replay: run each file named on the command line once. */
int
main(int argc, char *argv[])
{
	static uint8_t	 buf[2 * OIDC_MAX_JWKS + 1];
	FILE		*f;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
#endif
