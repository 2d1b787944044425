/* oidc_parse.c: discovery, JWKS, PKCE, state and cache-policy behaviours. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <cjose/cjose.h>

#include "oidc_login.h"
#include "tap.h"

#define ISSUER	"https://idp.example.org"

/* A discovery document for ISSUER with member name set to raw JSON value
 * (NULL: removed). */
static char *
discovery_with(const char *name, const char *value)
{
	cJSON	*d = cJSON_Parse("{"
	    "\"issuer\":\"" ISSUER "\","
	    "\"authorization_endpoint\":\"" ISSUER "/auth\","
	    "\"token_endpoint\":\"" ISSUER "/token\","
	    "\"jwks_uri\":\"" ISSUER "/jwks\","
	    "\"userinfo_endpoint\":\"" ISSUER "/me\","
	    "\"response_types_supported\":[\"code\"],"
	    "\"id_token_signing_alg_values_supported\":[\"RS256\",\"HS256\"],"
	    "\"code_challenge_methods_supported\":[\"plain\",\"S256\"],"
	    "\"authorization_response_iss_parameter_supported\":true}");
	char	*s;

	if (d == NULL)
		tap_bail("discovery template");
	if (name != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(d, name);
		if (value != NULL)
			cJSON_AddItemToObject(d, name, cJSON_Parse(value));
	}
	s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return s;
}

static int
parse_disc(char *doc, const char *issuer, int flags,
    struct oidc_discovery **out)
{
	char	err[256] = "";
	int	rc;

	rc = oidc_discovery_parse(doc, strlen(doc), issuer, flags, out, err,
	    sizeof(err));
	if (rc == -1)
		printf("# refused: %s\n", err);
	free(doc);
	return rc;
}

/* Refused with a reason, and nothing handed out. */
static void
refused(char *doc, const char *issuer, int flags, const char *name)
{
	struct oidc_discovery	*d = (void *)1;

	ok(parse_disc(doc, issuer, flags, &d) == -1 && d == NULL, "%s", name);
}

static void
test_discovery(void)
{
	struct oidc_discovery	*d = NULL;
	char			*doc;
	const char		*loop = "http://127.0.0.1:9999";

	ok(parse_disc(discovery_with(NULL, NULL), ISSUER, 0, &d) == 0 &&
	    strcmp(d->issuer, ISSUER) == 0 &&
	    strcmp(d->token_endpoint, ISSUER "/token") == 0 &&
	    strcmp(d->jwks_uri, ISSUER "/jwks") == 0 &&
	    strcmp(d->userinfo_endpoint, ISSUER "/me") == 0 &&
	    d->end_session_endpoint == NULL && d->iss_parameter_supported,
	    "good discovery document parsed");
	ok(oidc_callback_iss_ok(d, ISSUER), "RFC 9207: matching iss accepted");
	ok(!oidc_callback_iss_ok(d, NULL),
	    "RFC 9207: advertised iss parameter must be present");
	ok(!oidc_callback_iss_ok(d, "https://mix-up.example"),
	    "RFC 9207: another issuer refused (mix-up)");
	oidc_discovery_free(d);
	oidc_discovery_free(NULL);

	d = NULL;
	ok(parse_disc(discovery_with(
	    "authorization_response_iss_parameter_supported", NULL), ISSUER, 0,
	    &d) == 0 && !d->iss_parameter_supported &&
	    oidc_callback_iss_ok(d, NULL) && !oidc_callback_iss_ok(d, "x"),
	    "iss parameter not advertised: absent ok, wrong still refused");
	oidc_discovery_free(d);

	refused(discovery_with(NULL, NULL), ISSUER "/", 0,
	    "issuer differing by a trailing slash refused");
	refused(discovery_with("issuer", "\"https://evil.example\""), ISSUER,
	    0, "issuer of another provider refused");
	refused(discovery_with("issuer", NULL), ISSUER, 0,
	    "missing issuer refused");
	doc = discovery_with(NULL, NULL);
	if (strncmp(doc, "{\"issuer\":\"" ISSUER "\"", 11 + strlen(ISSUER)))
		tap_bail("issuer not first");
	{
		char	*nul;

		if (asprintf(&nul, "{\"issuer\":\"" ISSUER "\\u0000x\"%s",
		    doc + 12 + strlen(ISSUER)) == -1)
			tap_bail("asprintf");
		free(doc);
		refused(nul, ISSUER, 0, "issuer with an escaped NUL refused");
	}
	refused(discovery_with("token_endpoint", "\"http://idp.example.org/t\""),
	    ISSUER, 0, "plain http endpoint refused");
	refused(discovery_with("token_endpoint", "\"http://127.0.0.1/t\""),
	    ISSUER, 0, "loopback http endpoint refused outside test mode");
	refused(discovery_with("jwks_uri", "\"https://u:p@idp.example.org/\""),
	    ISSUER, 0, "endpoint with userinfo refused");
	refused(discovery_with("jwks_uri", NULL), ISSUER, 0,
	    "missing jwks_uri refused");
	refused(discovery_with("userinfo_endpoint", "\"ftp://x/\""), ISSUER,
	    0, "bad optional endpoint refused");
	refused(discovery_with("code_challenge_methods_supported",
	    "[\"plain\"]"), ISSUER, 0, "provider without S256 refused");
	refused(discovery_with("code_challenge_methods_supported", NULL),
	    ISSUER, 0, "provider not advertising PKCE refused");
	refused(discovery_with("id_token_signing_alg_values_supported",
	    "[\"HS256\",\"none\"]"), ISSUER, 0,
	    "provider with only HS256/none refused");
	refused(discovery_with("authorization_response_iss_parameter_supported",
	    "\"yes\""), ISSUER, 0, "non-boolean iss flag refused");
	refused(strdup("[1,2]"), ISSUER, 0, "non-object refused");
	refused(strdup("{\"issuer\":\"" ISSUER "\"} trailing"), ISSUER, 0,
	    "trailing garbage refused");

	doc = discovery_with(NULL, NULL);
	ok(oidc_discovery_parse(doc, OIDC_MAX_DISCOVERY + 1, ISSUER, 0, &d,
	    NULL, 0) == -1, "document over the size cap refused");
	free(doc);

	/* Test mode: loopback http, and only loopback. */
	doc = discovery_with(NULL, NULL);
	{
		char	*p, *q = malloc(strlen(doc) * 2);
		size_t	 o = 0;

		/* Rewrite every ISSUER to the loopback issuer. */
		for (p = doc; *p != '\0';) {
			if (strncmp(p, ISSUER, strlen(ISSUER)) == 0) {
				memcpy(q + o, loop, strlen(loop));
				o += strlen(loop);
				p += strlen(ISSUER);
			} else
				q[o++] = *p++;
		}
		q[o] = '\0';
		free(doc);
		d = NULL;
		ok(parse_disc(strdup(q), loop, OIDC_ALLOW_LOOPBACK_HTTP, &d) ==
		    0 && strcmp(d->jwks_uri, "http://127.0.0.1:9999/jwks") == 0,
		    "test mode accepts http on 127.0.0.1");
		oidc_discovery_free(d);
		refused(strdup(q), loop, 0, "without the flag it does not");
		free(q);
	}
	refused(discovery_with("token_endpoint",
	    "\"http://127.0.0.1.evil.example/t\""), ISSUER,
	    OIDC_ALLOW_LOOPBACK_HTTP, "test mode: 127.0.0.1.evil.example refused");
	refused(discovery_with("token_endpoint",
	    "\"http://localhost@evil.example/t\""), ISSUER,
	    OIDC_ALLOW_LOOPBACK_HTTP, "test mode: localhost@evil refused");
	refused(discovery_with("token_endpoint", "\"http://10.0.0.1/t\""),
	    ISSUER, OIDC_ALLOW_LOOPBACK_HTTP, "test mode: other hosts refused");
	refused(discovery_with("token_endpoint", "\"http://[::1]x.evil/t\""),
	    ISSUER, OIDC_ALLOW_LOOPBACK_HTTP, "test mode: [::1]x.evil refused");
	d = NULL;
	ok(parse_disc(discovery_with("token_endpoint",
	    "\"http://localhost:8080/t\""), ISSUER, OIDC_ALLOW_LOOPBACK_HTTP,
	    &d) == 0, "test mode: localhost:port accepted");
	oidc_discovery_free(d);
	d = NULL;
	ok(parse_disc(discovery_with("token_endpoint",
	    "\"http://[::1]:8080/t\""), ISSUER, OIDC_ALLOW_LOOPBACK_HTTP,
	    &d) == 0, "test mode: [::1]:port accepted");
	oidc_discovery_free(d);
}

/* A JWK's public JSON with extra members merged in (raw JSON object). */
static cJSON *
jwk_json(cjose_jwk_t *k, const char *kid, const char *extra)
{
	cjose_err	 err;
	char		*s;
	cJSON		*j, *x, *m;

	if (!cjose_jwk_set_kid(k, kid, strlen(kid), &err) ||
	    (s = cjose_jwk_to_json(k, false, &err)) == NULL)
		tap_bail("jwk export");
	j = cJSON_Parse(s);
	free(s);
	if (extra != NULL) {
		x = cJSON_Parse(extra);
		cJSON_ArrayForEach(m, x) {
			if (cJSON_GetObjectItemCaseSensitive(j, m->string))
				cJSON_ReplaceItemInObjectCaseSensitive(j,
				    m->string, cJSON_Duplicate(m, 1));
			else
				cJSON_AddItemToObject(j, m->string,
				    cJSON_Duplicate(m, 1));
		}
		cJSON_Delete(x);
	}
	return j;
}

static struct oidc_jwks *
jwks_of(cJSON *keys)
{
	cJSON			*set = cJSON_CreateObject();
	char			*s, err[256] = "";
	struct oidc_jwks	*r;

	cJSON_AddItemToObject(set, "keys", keys);
	s = cJSON_PrintUnformatted(set);
	r = oidc_jwks_parse(s, strlen(s), err, sizeof(err));
	if (r == NULL)
		printf("# refused: %s\n", err);
	free(s);
	cJSON_Delete(set);
	return r;
}

static void
test_jwks(void)
{
	static const uint8_t	 e[] = { 1, 0, 1 };
	cjose_err		 err;
	cjose_jwk_t		*rsa, *small, *ec, *ec521, *oct;
	cJSON			*keys;
	struct oidc_jwks	*s;
	char			 big[OIDC_MAX_JWKS + 2];

	rsa = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
	small = cjose_jwk_create_RSA_random(1024, e, sizeof(e), &err);
	ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
	ec521 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_521, &err);
	oct = cjose_jwk_create_oct_random(32, &err);
	if (!rsa || !small || !ec || !ec521 || !oct)
		tap_bail("keys");

	keys = cJSON_CreateArray();
	cJSON_AddItemToArray(keys, jwk_json(rsa, "r1", "{\"use\":\"sig\","
	    "\"alg\":\"RS256\"}"));
	cJSON_AddItemToArray(keys, jwk_json(ec, "e1", NULL));
	s = jwks_of(keys);
	ok(s != NULL && oidc_jwks_count(s) == 2, "RSA and P-256 keys kept");
	oidc_jwks_free(s);

	keys = cJSON_CreateArray();
	cJSON_AddItemToArray(keys, jwk_json(rsa, "r1", NULL));
	cJSON_AddItemToArray(keys, jwk_json(rsa, "enc", "{\"use\":\"enc\"}"));
	cJSON_AddItemToArray(keys, jwk_json(small, "weak", NULL));
	cJSON_AddItemToArray(keys, jwk_json(ec521, "p521", NULL));
	cJSON_AddItemToArray(keys, jwk_json(oct, "hmac", NULL));
	cJSON_AddItemToArray(keys, jwk_json(ec, "hs", "{\"alg\":\"HS256\"}"));
	cJSON_AddItemToArray(keys, jwk_json(ec, "lie", "{\"alg\":\"RS256\"}"));
	cJSON_AddItemToArray(keys, jwk_json(ec, "priv", "{\"d\":\"AAAA\"}"));
	cJSON_AddItemToArray(keys, jwk_json(ec, "", NULL));
	cJSON_AddItemToArray(keys, cJSON_Parse("{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"AAAA\"}"));
	cJSON_AddItemToArray(keys, cJSON_CreateString("not a key"));
	cJSON_AddItemToArray(keys, jwk_json(ec, "pad", "{\"x\":"
	    "\"qQzyCMcNosAZAEG8rI-MZEeQdOwrrbWMkh68FvdwraA=\"}"));
	s = jwks_of(keys);
	ok(s != NULL && oidc_jwks_count(s) == 1, "encryption, weak RSA, P-521, "
	    "symmetric, mislabelled, private, kid-less, padded and unknown keys "
	    "skipped");
	oidc_jwks_free(s);

	keys = cJSON_CreateArray();
	cJSON_AddItemToArray(keys, jwk_json(oct, "hmac", NULL));
	ok(jwks_of(keys) == NULL, "a set with no usable key is refused");
	ok(oidc_jwks_parse("{\"keys\":{}}", 11, NULL, 0) == NULL,
	    "keys must be an array");
	ok(oidc_jwks_parse("{\"keys\":[", 9, NULL, 0) == NULL,
	    "truncated JSON refused");
	memset(big, ' ', sizeof(big));
	ok(oidc_jwks_parse(big, sizeof(big), NULL, 0) == NULL,
	    "a set over the size cap refused");
	ok(oidc_jwks_count(NULL) == 0, "count of NULL is 0");

	cjose_jwk_release(rsa);
	cjose_jwk_release(small);
	cjose_jwk_release(ec);
	cjose_jwk_release(ec521);
	cjose_jwk_release(oct);
}

static void
test_randomness(void)
{
	struct oidc_pkce	p1, p2;
	char			s1[OIDC_TOKEN_LEN], s2[OIDC_TOKEN_LEN];
	char			c[OIDC_TOKEN_LEN];

	/* RFC 7636 appendix B. */
	ok(oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    c) == 0 && strcmp(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	    == 0, "S256 challenge matches RFC 7636 appendix B");
	ok(oidc_pkce_new(&p1) == 0 && oidc_pkce_new(&p2) == 0 &&
	    strlen(p1.verifier) == 43 && strcmp(p1.verifier, p2.verifier) != 0,
	    "verifiers are 43 characters and fresh");
	ok(oidc_pkce_challenge(p1.verifier, c) == 0 &&
	    strcmp(c, p1.challenge) == 0 && strcmp(c, p1.verifier) != 0,
	    "challenge is the S256 of the verifier");
	ok(oidc_pkce_challenge("short", c) == -1 &&
	    oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj+k",
	    c) == -1, "verifiers that RFC 7636 forbids are refused");
	ok(oidc_random_state(s1) == 0 && oidc_random_state(s2) == 0 &&
	    strlen(s1) == 43 && strspn(s1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == 43 &&
	    strcmp(s1, s2) != 0, "state values are 43 base64url characters");
	ok(util_secret_equal(s1, s1) && !util_secret_equal(s1, s2) &&
	    !util_secret_equal(s1, NULL) && !util_secret_equal("ab", "abc"),
	    "secret comparison");
}

static void
test_refetch(void)
{
	time_t	t = 1700000000;

	ok(oidc_jwks_may_refetch(0, t), "first fetch allowed");
	ok(!oidc_jwks_may_refetch(t, t), "refetch right after a fetch refused");
	ok(!oidc_jwks_may_refetch(t, t + 59), "refetch after 59 s refused");
	ok(oidc_jwks_may_refetch(t, t + 60), "refetch after 60 s allowed");
	ok(oidc_jwks_may_refetch(t, t - 3600),
	    "clock stepped back: one refetch allowed");
}

static void
test_requests(void)
{
	struct oidc_discovery	 d = { .authorization_endpoint =
				    "https://idp.example.org/auth" };
	char			*u, *tok = (void *)1, err[256];
	const char		*resp;

	u = oidc_authorization_url(&d, "spider pig", "https://h/cb?x=1&y",
	    "openid groups", "st", "no", "ch");
	ok(u != NULL && strcmp(u, "https://idp.example.org/auth?"
	    "response_type=code&client_id=spider%20pig&redirect_uri="
	    "https%3A%2F%2Fh%2Fcb%3Fx%3D1%26y&scope=openid%20groups&state=st&"
	    "nonce=no&code_challenge=ch&code_challenge_method=S256") == 0,
	    "authorization URL is built and encoded");
	free(u);
	ok(oidc_authorization_url(&d, "c", "r", "openid", "s", NULL, "c") ==
	    NULL, "no authorization URL without a nonce");

	resp = "{\"access_token\":\"a\",\"token_type\":\"bearer\","
	    "\"id_token\":\"h.p.s\",\"expires_in\":60}";
	ok(oidc_token_response_parse(resp, strlen(resp), &tok, NULL, 0) == 0 &&
	    strcmp(tok, "h.p.s") == 0, "token response gives the id_token");
	free(tok);
	resp = "{\"error\":\"invalid_grant\",\"error_description\":\"used\"}";
	ok(oidc_token_response_parse(resp, strlen(resp), &tok, err,
	    sizeof(err)) == -1 && tok == NULL && strstr(err, "invalid_grant"),
	    "token error response reported");
	resp = "{\"token_type\":\"mac\",\"id_token\":\"h.p.s\"}";
	ok(oidc_token_response_parse(resp, strlen(resp), &tok, NULL, 0) == -1,
	    "non-Bearer token response refused");
}

int
main(void)
{
	test_discovery();
	test_jwks();
	test_randomness();
	test_refetch();
	test_requests();
	return tap_done();
}
