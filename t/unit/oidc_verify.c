/* oidc_verify.c: each ID token attack is refused with its own reason. */

/* cjose hands out its RSA keys as RSA *; the HS256 attack needs their PEM. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <cjose/cjose.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "oidc_jwt.h"
#include "tap.h"

#define ISSUER		"https://idp.example.org"
#define CLIENT		"spiderpig"
#define NONCE		"n-0S6_WzA2Mj"
#define SKEW		60

static time_t	 now;

static cjose_jwk_t	*rsa1, *rsa2, *ec1, *rogue;
static struct oidc_jwks	*jwks;

static char *
b64url(const void *buf, size_t len)
{
	char		*out;
	size_t		 outlen;
	cjose_err	 err;

	if (!cjose_base64url_encode(buf, len, &out, &outlen, &err))
		tap_bail("base64url");
	return out;
}

/* A token from literal header and payload JSON and a base64url signature. */
static char *
raw_token(const char *hdr, const char *payload, const char *sig)
{
	char	*h = b64url(hdr, strlen(hdr)), *p = b64url(payload,
		    strlen(payload)), *t;

	if (asprintf(&t, "%s.%s.%s", h, p, sig) == -1)
		tap_bail("asprintf");
	free(h);
	free(p);
	return t;
}

/* Sign claims with k; alg and kid go into the protected header. */
static char *
sign(cjose_jwk_t *k, const char *alg, const char *kid, const cJSON *claims)
{
	cjose_header_t	*h;
	cjose_jws_t	*jws;
	cjose_err	 err;
	const char	*ser;
	char		*payload, *t;

	if ((h = cjose_header_new(&err)) == NULL ||
	    !cjose_header_set(h, CJOSE_HDR_ALG, alg, &err) ||
	    !cjose_header_set(h, "typ", "JWT", &err) ||
	    (kid != NULL && !cjose_header_set(h, CJOSE_HDR_KID, kid, &err)))
		tap_bail("header");
	payload = cJSON_PrintUnformatted(claims);
	if ((jws = cjose_jws_sign(k, h, (uint8_t *)payload, strlen(payload),
	    &err)) == NULL || !cjose_jws_export(jws, &ser, &err))
		tap_bail(err.message);
	t = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return t;
}

/* Claims that pass every check at time now. */
static cJSON *
good_claims(void)
{
	cJSON		*c = cJSON_CreateObject();
	const char	*g[] = { "deployers" };

	cJSON_AddStringToObject(c, "iss", ISSUER);
	cJSON_AddStringToObject(c, "aud", CLIENT);
	cJSON_AddNumberToObject(c, "exp", (double)(now + 300));
	cJSON_AddNumberToObject(c, "iat", (double)now);
	cJSON_AddStringToObject(c, "nonce", NONCE);
	cJSON_AddStringToObject(c, "sub", "248289761001");
	cJSON_AddStringToObject(c, "preferred_username", "alice");
	cJSON_AddItemToObject(c, "groups", cJSON_CreateStringArray(g, 1));
	return c;
}

static struct oidc_expect
expect(void)
{
	struct oidc_expect e = {
		.issuer = ISSUER,
		.client_id = CLIENT,
		.nonce = NONCE,
		.skew = SKEW,
	};

	return e;
}

/* Verify jwt against the test key set; t is freed. */
static enum oidc_result
verify_with(char *t, const struct oidc_expect *e, struct oidc_claims *c)
{
	char			 err[256];
	struct oidc_claims	 tmp;
	enum oidc_result	 r;

	r = oidc_id_token_verify(t, jwks, e, now, c ? c : &tmp, err,
	    sizeof(err));
	if (r != OIDC_OK)
		printf("# %s: %s\n", oidc_strerror(r), err);
	if (c == NULL)
		oidc_claims_free(&tmp);
	free(t);
	return r;
}

static enum oidc_result
verify(char *t)
{
	struct oidc_expect e = expect();

	return verify_with(t, &e, NULL);
}

static void
is_result(enum oidc_result got, enum oidc_result want, const char *name)
{
	ok(got == want, "%s: %s", name, oidc_strerror(want));
	if (got != want)
		printf("#   got: %s\n", oidc_strerror(got));
}

/* Sign good claims with one change applied by the caller. */
static char *
sign_mod(cjose_jwk_t *k, const char *alg, const char *kid, cJSON *c)
{
	char	*t = sign(k, alg, kid, c);

	cJSON_Delete(c);
	return t;
}

static void
setkey(cJSON *c, const char *name, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(c, name) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(c, name, v);
	else
		cJSON_AddItemToObject(c, name, v);
}

static cJSON *
claims_with(const char *name, cJSON *v)
{
	cJSON	*c = good_claims();

	if (v == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(c, name);
	else
		setkey(c, name, v);
	return c;
}

static void
make_keys(void)
{
	static const uint8_t	 e[] = { 1, 0, 1 };
	cjose_err		 err;
	cJSON			*set, *keys;
	char			*text, *pub;
	cjose_jwk_t		*mine[] = { NULL, NULL, NULL };
	size_t			 i;

	rsa1 = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
	rsa2 = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
	rogue = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
	ec1 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
	if (!rsa1 || !rsa2 || !rogue || !ec1 ||
	    !cjose_jwk_set_kid(rsa1, "rsa1", 4, &err) ||
	    !cjose_jwk_set_kid(rsa2, "rsa2", 4, &err) ||
	    !cjose_jwk_set_kid(rogue, "rogue", 5, &err) ||
	    !cjose_jwk_set_kid(ec1, "ec1", 3, &err))
		tap_bail("key generation");
	mine[0] = rsa1;
	mine[1] = rsa2;
	mine[2] = ec1;
	set = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(set, "keys");
	for (i = 0; i < 3; i++) {
		if ((pub = cjose_jwk_to_json(mine[i], false, &err)) == NULL)
			tap_bail("export");
		cJSON_AddItemToArray(keys, cJSON_Parse(pub));
		free(pub);
	}
	text = cJSON_PrintUnformatted(set);
	if ((jwks = oidc_jwks_parse(text, strlen(text), NULL, 0)) == NULL)
		tap_bail("test JWKS refused");
	free(text);
	cJSON_Delete(set);
}

/* The PEM SubjectPublicKeyInfo of an RSA JWK: what an attacker can fetch. */
static char *
public_pem(cjose_jwk_t *k, size_t *len)
{
	cjose_err	 err;
	RSA		*rsa = cjose_jwk_get_keydata(k, &err);
	BIO		*b = BIO_new(BIO_s_mem());
	char		*p, *copy;
	long		 n;

	if (rsa == NULL || b == NULL || !PEM_write_bio_RSA_PUBKEY(b, rsa))
		tap_bail("pem");
	n = BIO_get_mem_data(b, &p);
	if ((copy = malloc((size_t)n + 1)) == NULL)
		tap_bail("malloc");
	memcpy(copy, p, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return copy;
}

static void
test_valid(void)
{
	struct oidc_claims	 c;
	struct oidc_expect	 e = expect();
	enum oidc_result	 r;
	cJSON			*cl;
	const char		*aud[] = { CLIENT, "other" };

	r = verify_with(sign_mod(rsa1, "RS256", "rsa1", good_claims()), &e,
	    &c);
	is_result(r, OIDC_OK, "valid RS256 token accepted");
	ok(r == OIDC_OK && strcmp(c.sub, "248289761001") == 0 &&
	    strcmp(c.username, "alice") == 0 && c.groups.n == 1 &&
	    strcmp(c.groups.v[0], "deployers") == 0 && c.exp == now + 300,
	    "sub, username, groups and exp are returned");
	oidc_claims_free(&c);
	oidc_claims_free(&c);
	oidc_claims_free(NULL);

	is_result(verify(sign_mod(rsa2, "PS256", "rsa2", good_claims())),
	    OIDC_OK, "valid PS256 token accepted");
	is_result(verify(sign_mod(rsa1, "RS512", "rsa1", good_claims())),
	    OIDC_OK, "valid RS512 token accepted");
	is_result(verify(sign_mod(ec1, "ES256", "ec1", good_claims())),
	    OIDC_OK, "valid ES256 token accepted");
	is_result(verify(sign_mod(ec1, "ES256", NULL, good_claims())),
	    OIDC_OK, "no kid but exactly one P-256 key: accepted");

	cl = claims_with("aud", cJSON_CreateStringArray(aud, 2));
	cJSON_AddStringToObject(cl, "azp", CLIENT);
	is_result(verify(sign_mod(rsa1, "RS256", "rsa1", cl)), OIDC_OK,
	    "several audiences with azp = client accepted");

	cl = claims_with("exp", cJSON_CreateNumber((double)(now - SKEW + 5)));
	is_result(verify(sign_mod(rsa1, "RS256", "rsa1", cl)), OIDC_OK,
	    "exp just inside the skew accepted");
	cl = claims_with("nbf", cJSON_CreateNumber((double)(now + SKEW - 5)));
	is_result(verify(sign_mod(rsa1, "RS256", "rsa1", cl)), OIDC_OK,
	    "nbf just inside the skew accepted");

	cl = good_claims();
	cJSON_AddStringToObject(cl, "email", "alice@example.org");
	cJSON_AddItemToObject(cl, "roles", cJSON_CreateStringArray(aud, 2));
	e.username_claim = "email";
	e.groups_claim = "roles";
	r = verify_with(sign_mod(rsa1, "RS256", "rsa1", cl), &e, &c);
	ok(r == OIDC_OK && strcmp(c.username, "alice@example.org") == 0 &&
	    c.groups.n == 2 && strcmp(c.groups.v[1], "other") == 0,
	    "configured username and groups claims are used");
	oidc_claims_free(&c);

	e = expect();
	cl = claims_with("preferred_username", NULL);
	r = verify_with(sign_mod(rsa1, "RS256", "rsa1", cl), &e, &c);
	ok(r == OIDC_OK && strcmp(c.username, "248289761001") == 0,
	    "absent username claim falls back to sub");
	oidc_claims_free(&c);

	cl = claims_with("groups", NULL);
	r = verify_with(sign_mod(rsa1, "RS256", "rsa1", cl), &e, &c);
	ok(r == OIDC_OK && c.groups.n == 0 && c.groups.v == NULL,
	    "absent groups claim gives an empty list");
	oidc_claims_free(&c);
}

static void
test_algorithms(void)
{
	char		*payload, *hdr, *t, *sig, *pem;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen;
	size_t		 pemlen;
	cJSON		*cl = good_claims();

	payload = cJSON_PrintUnformatted(cl);
	cJSON_Delete(cl);

	is_result(verify(raw_token("{\"alg\":\"none\",\"kid\":\"rsa1\"}",
	    payload, "")), OIDC_ALG_NOT_ALLOWED, "alg none refused");
	is_result(verify(raw_token("{\"alg\":\"none\"}", payload, "")),
	    OIDC_ALG_NOT_ALLOWED, "alg none without kid refused");

	/* The classic confusion: HMAC keyed with the RSA public key PEM. */
	hdr = raw_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}",
	    payload, "");
	hdr[strlen(hdr) - 1] = '\0';	/* drop the trailing dot */
	pem = public_pem(rsa1, &pemlen);
	HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)hdr,
	    strlen(hdr), mac, &maclen);
	sig = b64url(mac, maclen);
	if (asprintf(&t, "%s.%s", hdr, sig) == -1)
		tap_bail("asprintf");
	is_result(verify(t), OIDC_ALG_NOT_ALLOWED,
	    "HS256 keyed with the RSA public key refused");
	free(hdr);
	free(sig);
	free(pem);

	t = raw_token("{\"alg\":\"ES512\",\"kid\":\"ec1\"}", payload, "AAAA");
	is_result(verify(t), OIDC_ALG_NOT_ALLOWED, "ES512 (off the list) "
	    "refused");
	/* cJSON keeps the first alg, cjose's jansson the last. */
	t = raw_token("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"alg\":\"HS256\"}",
	    payload, "AAAA");
	is_result(verify(t), OIDC_MALFORMED, "duplicate alg in the header "
	    "refused");
	t = raw_token("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"ec1\"}",
	    payload, "AAAA");
	is_result(verify(t), OIDC_MALFORMED, "duplicate kid in the header "
	    "refused");
	t = raw_token("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}",
	    payload, "AAAA");
	is_result(verify(t), OIDC_CRIT_HEADER, "crit header refused");
	t = raw_token("{\"kid\":\"rsa1\"}", payload, "AAAA");
	is_result(verify(t), OIDC_ALG_NOT_ALLOWED, "missing alg refused");
	free(payload);

	is_result(verify(sign_mod(ec1, "ES256", "rsa1", good_claims())),
	    OIDC_KEY_TYPE_MISMATCH, "ES256 token naming an RSA key refused");
	is_result(verify(sign_mod(rsa1, "RS256", "ec1", good_claims())),
	    OIDC_KEY_TYPE_MISMATCH, "RS256 token naming an EC key refused");
	is_result(verify(sign_mod(rogue, "RS256", "rogue", good_claims())),
	    OIDC_UNKNOWN_KID, "unknown kid reported for a JWKS refetch");
	is_result(verify(sign_mod(rsa1, "RS256", NULL, good_claims())),
	    OIDC_MISSING_KID, "no kid with two RSA keys refused");
	is_result(verify(sign_mod(rogue, "RS256", "rsa1", good_claims())),
	    OIDC_BAD_SIGNATURE, "token signed by another key refused");
}

static void
test_tampering(void)
{
	char	*good, *evil, *t, *p, *dot1, *dot2;
	cJSON	*cl = good_claims();

	good = sign(rsa1, "RS256", "rsa1", cl);
	setkey(cl, "sub", cJSON_CreateString("root"));
	evil = cJSON_PrintUnformatted(cl);
	cJSON_Delete(cl);
	p = b64url(evil, strlen(evil));
	dot1 = strchr(good, '.');
	dot2 = strchr(dot1 + 1, '.');
	if (asprintf(&t, "%.*s.%s%s", (int)(dot1 - good), good, p, dot2) == -1)
		tap_bail("asprintf");
	is_result(verify(t), OIDC_BAD_SIGNATURE, "tampered payload refused");
	free(p);
	free(evil);

	t = strdup(good);
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	is_result(verify(t), OIDC_BAD_SIGNATURE, "tampered signature refused");

	/* cjose's decoder assert()s on "A=AA": refused before it sees it. */
	if (asprintf(&t, "%.*sA=AA", (int)(strrchr(good, '.') + 1 - good),
	    good) == -1)
		tap_bail("asprintf");
	is_result(verify(t), OIDC_MALFORMED,
	    "signature cjose would abort on refused");
	if (asprintf(&t, "%sAAA", good) == -1)
		tap_bail("asprintf");
	is_result(verify(t), OIDC_MALFORMED,
	    "signature of 4n+1 characters refused");

	if (asprintf(&t, "%s.x.y", good) == -1)
		tap_bail("asprintf");
	is_result(verify(t), OIDC_MALFORMED, "five-part token refused");
	is_result(verify(strdup("not a token")), OIDC_MALFORMED,
	    "garbage refused");
	free(good);
}

static void
test_claims(void)
{
	const char		*aud2[] = { CLIENT, "other" }, *aud3[] = {
				    "other", "third" };
	struct oidc_expect	 e = expect();
	cJSON			*cl;
	struct oidc_claims	 c;

#define CHECK(claims, want, name) \
	is_result(verify(sign_mod(rsa1, "RS256", "rsa1", (claims))), \
	    (want), (name))

	CHECK(claims_with("iss", cJSON_CreateString(ISSUER ".evil")),
	    OIDC_BAD_ISSUER, "wrong issuer refused");
	CHECK(claims_with("iss", cJSON_CreateString(ISSUER "/")),
	    OIDC_BAD_ISSUER, "issuer with a trailing slash refused");
	CHECK(claims_with("iss", NULL), OIDC_BAD_ISSUER,
	    "missing issuer refused");

	CHECK(claims_with("aud", cJSON_CreateString("other")),
	    OIDC_BAD_AUDIENCE, "wrong audience refused");
	CHECK(claims_with("aud", cJSON_CreateStringArray(aud3, 2)),
	    OIDC_BAD_AUDIENCE, "audience list without us refused");
	CHECK(claims_with("aud", NULL), OIDC_BAD_AUDIENCE,
	    "missing audience refused");

	CHECK(claims_with("aud", cJSON_CreateStringArray(aud2, 2)),
	    OIDC_BAD_AZP, "several audiences without azp refused");
	cl = claims_with("aud", cJSON_CreateStringArray(aud2, 2));
	cJSON_AddStringToObject(cl, "azp", "other");
	CHECK(cl, OIDC_BAD_AZP, "azp naming another client refused");

	CHECK(claims_with("exp", cJSON_CreateNumber((double)(now - SKEW - 1))),
	    OIDC_EXPIRED, "expired token refused");
	CHECK(claims_with("exp", NULL), OIDC_MISSING_TIME,
	    "token without exp refused");
	CHECK(claims_with("exp", cJSON_CreateString("never")),
	    OIDC_MISSING_TIME, "string exp refused");
	CHECK(claims_with("iat", cJSON_CreateNumber((double)(now + SKEW + 1))),
	    OIDC_IAT_IN_FUTURE, "iat in the future beyond the skew refused");
	CHECK(claims_with("nbf", cJSON_CreateNumber((double)(now + SKEW + 1))),
	    OIDC_NOT_YET_VALID, "nbf in the future refused");

	CHECK(claims_with("nonce", cJSON_CreateString("n-other")),
	    OIDC_BAD_NONCE, "wrong nonce refused");
	CHECK(claims_with("nonce", NULL), OIDC_BAD_NONCE,
	    "missing nonce refused");
	CHECK(claims_with("sub", NULL), OIDC_MISSING_SUB,
	    "missing sub refused");
	CHECK(claims_with("sub", cJSON_CreateString("")), OIDC_MISSING_SUB,
	    "empty sub refused");
	CHECK(claims_with("preferred_username", cJSON_CreateString("")),
	    OIDC_MISSING_USERNAME, "empty username refused");
	CHECK(claims_with("preferred_username", cJSON_CreateNumber(7)),
	    OIDC_MISSING_USERNAME, "non-string username refused");
	CHECK(claims_with("groups", cJSON_CreateString("deployers")),
	    OIDC_BAD_GROUPS, "groups as a string refused");
#undef CHECK

	e.skew = OIDC_MAX_SKEW + 1;
	is_result(verify_with(sign_mod(rsa1, "RS256", "rsa1", good_claims()),
	    &e, NULL), OIDC_EINVAL, "skew above 120 s refused");
	e = expect();
	e.nonce = NULL;
	is_result(verify_with(sign_mod(rsa1, "RS256", "rsa1", good_claims()),
	    &e, &c), OIDC_EINVAL, "a missing expected nonce is a caller bug");
	ok(c.sub == NULL && c.groups.v == NULL, "claims are zeroed on failure");
}

static void
test_roles(void)
{
	char			*dep[] = { "deployers" };
	char			*adm[] = { "sre-admins" };
	char			*alice[] = { "deployers" };
	char			*root[] = { "deployers", "sre-admins" };
	char			*eve[] = { "others" };
	char			*near[] = { "Deployers", "sre-admins-x" };
	struct oidc_strlist	 d = { dep, 1 }, a = { adm, 1 };
	struct oidc_strlist	 la = { alice, 1 }, lr = { root, 2 };
	struct oidc_strlist	 le = { eve, 1 }, ln = { near, 2 };
	struct oidc_strlist	 none = { NULL, 0 };
	const char		*r;

	r = oidc_role_for_groups(&lr, &d, &a);
	ok(r != NULL && strcmp(r, "admin") == 0, "admin group gives admin");
	r = oidc_role_for_groups(&la, &d, &a);
	ok(r != NULL && strcmp(r, "deployer") == 0,
	    "deployer group gives deployer");
	ok(oidc_role_for_groups(&le, &d, &a) == NULL, "other groups: no role");
	ok(oidc_role_for_groups(&ln, &d, &a) == NULL,
	    "group names match exactly and case-sensitively");
	ok(oidc_role_for_groups(&none, &d, &a) == NULL, "no groups: no role");
	ok(oidc_role_for_groups(NULL, &d, &a) == NULL, "NULL groups: no role");
	ok(oidc_role_for_groups(&lr, NULL, NULL) == NULL,
	    "no configured groups: no role");
}

int
main(void)
{
	now = time(NULL);
	make_keys();
	test_valid();
	test_algorithms();
	test_tampering();
	test_claims();
	test_roles();
	oidc_jwks_free(jwks);
	oidc_jwks_free(NULL);
	cjose_jwk_release(rsa1);
	cjose_jwk_release(rsa2);
	cjose_jwk_release(ec1);
	cjose_jwk_release(rogue);
	return tap_done();
}
