/* oidc_jwt.c: the pure OpenID Connect checks: discovery documents, JWK
 * sets, ID tokens and token responses. No I/O, no clock, no randomness:
 * this is what fuzz/oidc_jwt.c feeds arbitrary bytes to. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <cjose/cjose.h>

#include "oidc_jwt.h"
#include "util.h"

/*
 * How a verifying key must look for a given JWS algorithm. The table is the
 * allow-list: an algorithm not in it (none, HS256, ES512, ...) is refused
 * before any key is looked at, so a public key can never be used as an HMAC
 * secret.
 */
enum key_kind {
	KEY_NONE = 0,
	KEY_RSA,
	KEY_EC_P256,
	KEY_EC_P384
};

static const struct {
	const char	*name;
	enum key_kind	 kind;
} alg_table[] = {
	{ "RS256", KEY_RSA },
	{ "RS384", KEY_RSA },
	{ "RS512", KEY_RSA },
	{ "PS256", KEY_RSA },
	{ "PS384", KEY_RSA },
	{ "PS512", KEY_RSA },
	{ "ES256", KEY_EC_P256 },
	{ "ES384", KEY_EC_P384 },
};

struct oidc_key {
	cjose_jwk_t	*jwk;
	char		*kid;
	enum key_kind	 kind;
	char		 alg[8];	/* "" when the JWK names no alg */
};

struct oidc_jwks {
	struct oidc_key	*keys;
	size_t		 n;
};

static const char *const result_text[OIDC_RESULT_COUNT] = {
	[OIDC_OK] = "ok",
	[OIDC_EINVAL] = "invalid argument",
	[OIDC_ENOMEM] = "out of memory",
	[OIDC_MALFORMED] = "malformed token",
	[OIDC_ALG_NOT_ALLOWED] = "signature algorithm not allowed",
	[OIDC_CRIT_HEADER] = "unsupported critical header",
	[OIDC_MISSING_KID] = "token names no key and the key set is ambiguous",
	[OIDC_UNKNOWN_KID] = "token signed by an unknown key",
	[OIDC_KEY_TYPE_MISMATCH] = "key type does not match the algorithm",
	[OIDC_BAD_SIGNATURE] = "bad signature",
	[OIDC_BAD_ISSUER] = "wrong issuer",
	[OIDC_BAD_AUDIENCE] = "token not issued for this client",
	[OIDC_BAD_AZP] = "authorized party is not this client",
	[OIDC_EXPIRED] = "token expired",
	[OIDC_IAT_IN_FUTURE] = "token issued in the future",
	[OIDC_NOT_YET_VALID] = "token not yet valid",
	[OIDC_MISSING_TIME] = "exp or iat missing or invalid",
	[OIDC_BAD_NONCE] = "nonce mismatch",
	[OIDC_MISSING_SUB] = "subject missing",
	[OIDC_MISSING_USERNAME] = "username claim invalid",
	[OIDC_BAD_GROUPS] = "groups claim is not a list of strings",
};

/* Largest NumericDate we accept: 9999-12-31T23:59:59Z. */
#define MAX_NUMERIC_DATE	253402300799.0

const char *
oidc_strerror(enum oidc_result r)
{
	if ((int)r < 0 || r >= OIDC_RESULT_COUNT || result_text[r] == NULL)
		return "unknown error";
	return result_text[r];
}

/* ---- Small helpers ---- */

void
oidc_strlist_free(struct oidc_strlist *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool
oidc_strlist_contains(const struct oidc_strlist *l, const char *s)
{
	size_t	i;

	if (l == NULL || s == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}


/*
 * Parse len bytes as one JSON value with nothing but whitespace after it.
 * NUL bytes and the \u0000 escape are refused: either would let a C string
 * end early, so "https://idp\u0000.evil" could compare equal to the issuer.
 */
static cJSON *
json_parse(const char *buf, size_t len, size_t max, char *err, size_t errsz)
{
	const char	*end = NULL;
	char		*copy;
	cJSON		*j;

	if (buf == NULL || len == 0) {
		util_seterr(err, errsz, "empty document");
		return NULL;
	}
	if (len > max) {
		util_seterr(err, errsz, "document larger than %zu bytes", max);
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL || memmem(buf, len, "\\u0000", 6)) {
		util_seterr(err, errsz, "document contains a NUL character");
		return NULL;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		return NULL;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	j = cJSON_ParseWithOpts(copy, &end, 0);
	if (j != NULL) {
		while (*end == ' ' || *end == '\t' || *end == '\n' ||
		    *end == '\r')
			end++;
		if (*end != '\0') {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	free(copy);
	if (j == NULL)
		util_seterr(err, errsz, "invalid JSON");
	return j;
}

/*
 * True when object o names a member twice. cJSON keeps the first and
 * cjose's jansson the last, so a duplicate could make the two disagree on
 * "alg"; a signed document has no reason to carry one.
 */
static bool
json_has_duplicates(const cJSON *o)
{
	const cJSON	*a, *b;

	for (a = o->child; a != NULL; a = a->next)
		for (b = a->next; b != NULL; b = b->next)
			if (a->string != NULL && b->string != NULL &&
			    strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

/* The member name of object o as a string, or NULL (absent or not one). */
static const char *
json_str(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
json_array_has(const cJSON *a, const char *s)
{
	const cJSON	*v;

	if (!cJSON_IsArray(a))
		return false;
	cJSON_ArrayForEach(v, a)
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return true;
	return false;
}

static enum key_kind
alg_kind(const char *alg)
{
	size_t	i;

	if (alg == NULL)
		return KEY_NONE;
	for (i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++)
		if (strcmp(alg_table[i].name, alg) == 0)
			return alg_table[i].kind;
	return KEY_NONE;
}

/* ---- Discovery ---- */

void
oidc_discovery_free(struct oidc_discovery *d)
{
	if (d == NULL)
		return;
	free(d->issuer);
	free(d->authorization_endpoint);
	free(d->token_endpoint);
	free(d->jwks_uri);
	free(d->userinfo_endpoint);
	free(d->end_session_endpoint);
	free(d);
}

/* Copy URL member name of o into *dst; absent is an error only if required. */
static int
discovery_url(const cJSON *o, const char *name, bool required, int flags,
    char **dst, char *err, size_t errsz)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL && !required)
		return 0;
	if (!cJSON_IsString(v) || !util_url_ok(v->valuestring, flags)) {
		util_seterr(err, errsz, "%s: %s", name, v == NULL ? "missing" :
		    "not an https URL");
		return -1;
	}
	if ((*dst = strdup(v->valuestring)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

int
oidc_discovery_parse(const char *json, size_t len, const char *expected_issuer,
    int flags, struct oidc_discovery **out, char *err, size_t errsz)
{
	struct oidc_discovery	*d = NULL;
	const cJSON		*v, *a;
	cJSON			*o;
	bool			 any_alg = false;
	int			 rc = -1;

	if (out == NULL)
		return -1;
	*out = NULL;
	if (!util_url_ok(expected_issuer, flags)) {
		util_seterr(err, errsz,
		    "configured issuer is not an https URL");
		return -1;
	}
	if ((o = json_parse(json, len, OIDC_MAX_DISCOVERY, err, errsz)) == NULL)
		return -1;
	if (!cJSON_IsObject(o)) {
		util_seterr(err, errsz, "discovery document is not an object");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		util_seterr(err, errsz, "out of memory");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "issuer");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, expected_issuer)) {
		util_seterr(err, errsz, "issuer %s%s%s does not match %s",
		    cJSON_IsString(v) ? "\"" : "",
		    cJSON_IsString(v) ? v->valuestring : "(missing)",
		    cJSON_IsString(v) ? "\"" : "", expected_issuer);
		goto out;
	}
	if ((d->issuer = strdup(v->valuestring)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		goto out;
	}
	if (discovery_url(o, "authorization_endpoint", true, flags,
	    &d->authorization_endpoint, err, errsz) == -1 ||
	    discovery_url(o, "token_endpoint", true, flags,
	    &d->token_endpoint, err, errsz) == -1 ||
	    discovery_url(o, "jwks_uri", true, flags,
	    &d->jwks_uri, err, errsz) == -1 ||
	    discovery_url(o, "userinfo_endpoint", false, flags,
	    &d->userinfo_endpoint, err, errsz) == -1 ||
	    discovery_url(o, "end_session_endpoint", false, flags,
	    &d->end_session_endpoint, err, errsz) == -1)
		goto out;

	a = cJSON_GetObjectItemCaseSensitive(o,
	    "code_challenge_methods_supported");
	if (!json_array_has(a, "S256")) {
		util_seterr(err, errsz, "provider does not support PKCE S256");
		goto out;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "response_types_supported");
	if (!json_array_has(a, "code")) {
		util_seterr(err, errsz,
		    "provider does not support response_type code");
		goto out;
	}
	a = cJSON_GetObjectItemCaseSensitive(o,
	    "id_token_signing_alg_values_supported");
	if (a != NULL) {
		cJSON_ArrayForEach(v, a)
			if (cJSON_IsString(v) && alg_kind(v->valuestring))
				any_alg = true;
		if (!any_alg) {
			util_seterr(err, errsz,
			    "provider signs ID tokens with no "
			    "algorithm we accept");
			goto out;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(o,
	    "authorization_response_iss_parameter_supported");
	if (v != NULL && !cJSON_IsBool(v)) {
		util_seterr(err, errsz, "authorization_response_iss_parameter_"
		    "supported is not a boolean");
		goto out;
	}
	d->iss_parameter_supported = cJSON_IsTrue(v);
	*out = d;
	d = NULL;
	rc = 0;
out:
	oidc_discovery_free(d);
	cJSON_Delete(o);
	return rc;
}

bool
oidc_callback_iss_ok(const struct oidc_discovery *d, const char *iss)
{
	if (d == NULL)
		return false;
	if (iss == NULL)
		return !d->iss_parameter_supported;
	return strcmp(iss, d->issuer) == 0;
}

/* ---- JWKS ---- */

void
oidc_jwks_free(struct oidc_jwks *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		cjose_jwk_release(s->keys[i].jwk);
		free(s->keys[i].kid);
	}
	free(s->keys);
	free(s);
}

size_t
oidc_jwks_count(const struct oidc_jwks *s)
{
	return s == NULL ? 0 : s->n;
}

/*
 * Import one JWK object into k. Returns 1 when usable, 0 when it is to be
 * skipped (encryption key, symmetric, weak or unsupported), -1 on memory
 * failure. cjose gets a copy holding only the public members, each checked
 * first; the key type and curve then come from cjose's own import, the
 * library that will verify with it.
 */
static int
jwks_import_key(const cJSON *j, struct oidc_key *k)
{
	static const char *const rsa_members[] = { "n", "e", NULL };
	static const char *const ec_members[] = { "x", "y", NULL };
	const char *const	*m;
	cjose_err		 cerr;
	cjose_jwk_t		*jwk = NULL;
	cJSON			*pub = NULL;
	const char		*use, *alg, *kid, *kty, *crv = NULL, *v;
	char			*text = NULL;
	int			 rc = 0;

	memset(k, 0, sizeof(*k));
	if (!cJSON_IsObject(j) || json_has_duplicates(j))
		return 0;
	use = json_str(j, "use");
	alg = json_str(j, "alg");
	kid = json_str(j, "kid");
	kty = json_str(j, "kty");
	if (cJSON_GetObjectItemCaseSensitive(j, "use") != NULL &&
	    (use == NULL || strcmp(use, "sig") != 0))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(j, "alg") != NULL &&
	    alg_kind(alg) == KEY_NONE)
		return 0;
	if (kid == NULL || *kid == '\0' || strlen(kid) > OIDC_MAX_CLAIM_LEN)
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(j, "d") != NULL)
		return 0;	/* a private key has no business here */
	if (kty != NULL && strcmp(kty, "RSA") == 0)
		m = rsa_members;
	else if (kty != NULL && strcmp(kty, "EC") == 0) {
		m = ec_members;
		crv = json_str(j, "crv");
		if (crv == NULL || (strcmp(crv, "P-256") != 0 &&
		    strcmp(crv, "P-384") != 0))
			return 0;
	} else
		return 0;

	if ((pub = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(pub, "kty", kty) == NULL ||
	    (crv != NULL && cJSON_AddStringToObject(pub, "crv", crv) == NULL))
		goto nomem;
	for (; *m != NULL; m++) {
		if ((v = json_str(j, *m)) == NULL || *v == '\0' ||
		    !util_b64url_ok(v, strlen(v)))
			goto out;
		if (cJSON_AddStringToObject(pub, *m, v) == NULL)
			goto nomem;
	}
	if ((text = cJSON_PrintUnformatted(pub)) == NULL)
		goto nomem;
	if ((jwk = cjose_jwk_import(text, strlen(text), &cerr)) == NULL)
		goto out;
	switch (cjose_jwk_get_kty(jwk, &cerr)) {
	case CJOSE_JWK_KTY_RSA:
		if (cjose_jwk_get_keysize(jwk, &cerr) >= 2048)
			k->kind = KEY_RSA;
		break;
	case CJOSE_JWK_KTY_EC:
		switch ((int)cjose_jwk_EC_get_curve(jwk, &cerr)) {
		case CJOSE_JWK_EC_P_256:
			k->kind = KEY_EC_P256;
			break;
		case CJOSE_JWK_EC_P_384:
			k->kind = KEY_EC_P384;
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
	if (k->kind == KEY_NONE || (alg != NULL && alg_kind(alg) != k->kind)) {
		k->kind = KEY_NONE;
		goto out;
	}
	if ((k->kid = strdup(kid)) == NULL)
		goto nomem;
	if (alg != NULL)
		snprintf(k->alg, sizeof(k->alg), "%s", alg);
	k->jwk = jwk;
	jwk = NULL;
	rc = 1;
	goto out;
nomem:
	rc = -1;
out:
	cjose_jwk_release(jwk);
	free(text);
	cJSON_Delete(pub);
	return rc;
}

struct oidc_jwks *
oidc_jwks_parse(const char *json, size_t len, char *err, size_t errsz)
{
	struct oidc_jwks	*s = NULL;
	const cJSON		*keys, *j;
	cJSON			*o;
	int			 n, r;

	if ((o = json_parse(json, len, OIDC_MAX_JWKS, err, errsz)) == NULL)
		return NULL;
	keys = cJSON_GetObjectItemCaseSensitive(o, "keys");
	if (!cJSON_IsObject(o) || !cJSON_IsArray(keys)) {
		util_seterr(err, errsz, "not a JWK set");
		goto fail;
	}
	n = cJSON_GetArraySize(keys);
	if (n > OIDC_MAX_KEYS) {
		util_seterr(err, errsz, "more than %d keys", OIDC_MAX_KEYS);
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 && (s->keys = calloc((size_t)n, sizeof(*s->keys))) == NULL)) {
		util_seterr(err, errsz, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(j, keys) {
		if ((r = jwks_import_key(j, &s->keys[s->n])) == -1) {
			util_seterr(err, errsz, "out of memory");
			goto fail;
		}
		if (r == 1)
			s->n++;
	}
	if (s->n == 0) {
		util_seterr(err, errsz, "no usable signing key");
		goto fail;
	}
	cJSON_Delete(o);
	return s;
fail:
	oidc_jwks_free(s);
	cJSON_Delete(o);
	return NULL;
}

bool
oidc_jwks_may_refetch(time_t last_fetch, time_t now)
{
	if (now < last_fetch)
		return true;
	return now - last_fetch >= OIDC_JWKS_REFETCH_MIN;
}

/* One Cache-Control directive name of len bytes at s equals name. */
static bool
cc_is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(s, name, len) == 0;
}

long
oidc_jwks_ttl(const char *cc)
{
	const char	*p, *end, *eq;
	long		 max_age = -1, v;
	bool		 no_cache = false;
	size_t		 nlen;

	if (cc == NULL)
		return OIDC_JWKS_TTL_DEFAULT;
	for (p = cc; *p != '\0'; p = *end ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', (size_t)(end - p));
		nlen = (size_t)((eq ? eq : end) - p);
		while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		if (cc_is(p, nlen, "no-store") || cc_is(p, nlen, "no-cache"))
			no_cache = true;
		else if (eq != NULL && cc_is(p, nlen, "max-age")) {
			const char *d = eq + 1;

			if (*d == '"')
				d++;
			if (!isdigit((unsigned char)*d))
				continue;	/* malformed: as if absent */
			for (v = 0; isdigit((unsigned char)*d); d++) {
				v = v * 10 + (*d - '0');
				if (v > OIDC_JWKS_TTL_MAX)
					v = OIDC_JWKS_TTL_MAX;
			}
			max_age = v;
		}
	}
	if (no_cache)
		return OIDC_JWKS_TTL_MIN;
	if (max_age < 0)
		return OIDC_JWKS_TTL_DEFAULT;
	if (max_age < OIDC_JWKS_TTL_MIN)
		return OIDC_JWKS_TTL_MIN;
	return max_age > OIDC_JWKS_TTL_MAX ? OIDC_JWKS_TTL_MAX : max_age;
}

/* ---- ID token ---- */

void
oidc_claims_free(struct oidc_claims *c)
{
	if (c == NULL)
		return;
	free(c->sub);
	free(c->username);
	oidc_strlist_free(&c->groups);
	memset(c, 0, sizeof(*c));
}

/* A key of jwks for alg and kid (NULL: the only key fitting alg). */
static enum oidc_result
jwks_find(const struct oidc_jwks *s, const char *alg, const char *kid,
    const struct oidc_key **found)
{
	enum key_kind	 kind = alg_kind(alg);
	size_t		 i, fitting = 0;
	bool		 kid_seen = false;

	*found = NULL;
	for (i = 0; i < s->n; i++) {
		const struct oidc_key *k = &s->keys[i];

		if (kid != NULL && strcmp(k->kid, kid) != 0)
			continue;
		kid_seen = true;
		if (kind == KEY_NONE || k->kind != kind ||
		    (k->alg[0] != '\0' && strcmp(k->alg, alg) != 0))
			continue;
		fitting++;
		if (*found == NULL)
			*found = k;
	}
	if (kid == NULL) {
		if (fitting == 1)
			return OIDC_OK;
		*found = NULL;
		return OIDC_MISSING_KID;
	}
	if (!kid_seen)
		return OIDC_UNKNOWN_KID;
	return *found != NULL ? OIDC_OK : OIDC_KEY_TYPE_MISMATCH;
}

/* A NumericDate claim as seconds, or -1 when absent or invalid. */
static long long
json_time(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < 0 || v->valuedouble > MAX_NUMERIC_DATE)
		return -1;
	return (long long)floor(v->valuedouble);
}

static bool
claim_string_ok(const char *s)
{
	return s != NULL && *s != '\0' && strlen(s) <= OIDC_MAX_CLAIM_LEN;
}

/* Check the claims of a verified payload; fill out on success. */
static enum oidc_result
claims_check(const cJSON *p, const struct oidc_expect *e, time_t now,
    struct oidc_claims *out, char *err, size_t errsz)
{
	const cJSON	*aud, *v, *groups;
	const char	*s, *sub, *user, *azp;
	long long	 exp, iat, nbf, t = (long long)now;
	size_t		 naud = 0;
	const char	*uclaim = e->username_claim ? e->username_claim :
			    "preferred_username";
	const char	*gclaim = e->groups_claim ? e->groups_claim : "groups";

	s = json_str(p, "iss");
	if (s == NULL || strcmp(s, e->issuer) != 0) {
		util_seterr(err, errsz, "iss is not %s", e->issuer);
		return OIDC_BAD_ISSUER;
	}

	aud = cJSON_GetObjectItemCaseSensitive(p, "aud");
	if (cJSON_IsString(aud)) {
		naud = 1;
		if (strcmp(aud->valuestring, e->client_id) != 0)
			goto bad_aud;
	} else if (cJSON_IsArray(aud)) {
		cJSON_ArrayForEach(v, aud) {
			if (!cJSON_IsString(v))
				goto bad_aud;
			naud++;
		}
		if (!json_array_has(aud, e->client_id))
			goto bad_aud;
	} else
		goto bad_aud;
	/* OIDC Core 3.1.3.7 steps 4 and 5: several audiences need an azp,
	 * and an azp present must be us. */
	v = cJSON_GetObjectItemCaseSensitive(p, "azp");
	azp = json_str(p, "azp");
	if ((naud > 1 && azp == NULL) || (v != NULL && azp == NULL) ||
	    (azp != NULL && strcmp(azp, e->client_id) != 0)) {
		util_seterr(err, errsz, "azp %s with %zu audiences",
		    azp ? "is another client" : "missing", naud);
		return OIDC_BAD_AZP;
	}

	if ((exp = json_time(p, "exp")) == -1 ||
	    (iat = json_time(p, "iat")) == -1) {
		util_seterr(err, errsz, "exp and iat must be NumericDates");
		return OIDC_MISSING_TIME;
	}
	if (exp <= t - e->skew) {
		util_seterr(err, errsz, "expired %lld s ago", t - exp);
		return OIDC_EXPIRED;
	}
	if (iat > t + e->skew) {
		util_seterr(err, errsz, "iat %lld s ahead", iat - t);
		return OIDC_IAT_IN_FUTURE;
	}
	if (cJSON_GetObjectItemCaseSensitive(p, "nbf") != NULL) {
		if ((nbf = json_time(p, "nbf")) == -1) {
			util_seterr(err, errsz, "nbf is not a NumericDate");
			return OIDC_MISSING_TIME;
		}
		if (nbf > t + e->skew) {
			util_seterr(err, errsz,
			    "valid only in %lld s", nbf - t);
			return OIDC_NOT_YET_VALID;
		}
	}

	if (!util_secret_equal(json_str(p, "nonce"), e->nonce)) {
		util_seterr(err, errsz, "nonce differs from the one we sent");
		return OIDC_BAD_NONCE;
	}
	if (!claim_string_ok(sub = json_str(p, "sub"))) {
		util_seterr(err, errsz, "sub missing or too long");
		return OIDC_MISSING_SUB;
	}
	/* The contract's username_claim "falls back to sub" when absent; a
	 * present but unusable value is an error, not a silent fallback. */
	if (cJSON_GetObjectItemCaseSensitive(p, uclaim) == NULL)
		user = sub;
	else if (!claim_string_ok(user = json_str(p, uclaim))) {
		util_seterr(err, errsz, "%s is not a non-empty string", uclaim);
		return OIDC_MISSING_USERNAME;
	}
	groups = cJSON_GetObjectItemCaseSensitive(p, gclaim);
	if (groups != NULL) {
		if (!cJSON_IsArray(groups) ||
		    cJSON_GetArraySize(groups) > OIDC_MAX_GROUPS)
			goto bad_groups;
		cJSON_ArrayForEach(v, groups)
			if (!cJSON_IsString(v) ||
			    !claim_string_ok(v->valuestring))
				goto bad_groups;
	}

	if ((out->sub = strdup(sub)) == NULL ||
	    (out->username = strdup(user)) == NULL)
		goto nomem;
	if (groups != NULL && cJSON_GetArraySize(groups) > 0) {
		out->groups.v = calloc((size_t)cJSON_GetArraySize(groups),
		    sizeof(char *));
		if (out->groups.v == NULL)
			goto nomem;
		cJSON_ArrayForEach(v, groups) {
			if ((out->groups.v[out->groups.n] =
			    strdup(v->valuestring)) == NULL)
				goto nomem;
			out->groups.n++;
		}
	}
	out->exp = (time_t)exp;
	out->iat = (time_t)iat;
	return OIDC_OK;

bad_aud:
	util_seterr(err, errsz, "aud does not contain %s", e->client_id);
	return OIDC_BAD_AUDIENCE;
bad_groups:
	util_seterr(err, errsz, "%s is not an array of strings", gclaim);
	return OIDC_BAD_GROUPS;
nomem:
	oidc_claims_free(out);
	util_seterr(err, errsz, "out of memory");
	return OIDC_ENOMEM;
}

enum oidc_result
oidc_id_token_verify(const char *jwt, const struct oidc_jwks *jwks,
    const struct oidc_expect *e, time_t now, struct oidc_claims *out,
    char *err, size_t errsz)
{
	const struct oidc_key	*key;
	cjose_jws_t		*jws = NULL;
	cjose_err		 cerr;
	cJSON			*hdr = NULL, *payload = NULL;
	unsigned char		*raw = NULL;
	uint8_t			*plain;
	const char		*dot1, *dot2, *alg, *kid, *calg;
	size_t			 len, rawlen, plainlen;
	enum oidc_result	 r;

	util_seterr(err, errsz, "%s", "");
	if (out == NULL)
		return OIDC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (jwt == NULL || jwks == NULL || e == NULL || e->issuer == NULL ||
	    e->client_id == NULL || e->nonce == NULL || e->skew < 0 ||
	    e->skew > OIDC_MAX_SKEW) {
		util_seterr(err, errsz, "bad arguments");
		return OIDC_EINVAL;
	}

	/* Compact JWS: exactly three dot-separated parts (a JWE has five). */
	r = OIDC_MALFORMED;
	len = strnlen(jwt, OIDC_MAX_JWT + 1);
	if (len > OIDC_MAX_JWT) {
		util_seterr(err, errsz,
		    "token longer than %d bytes", OIDC_MAX_JWT);
		goto out;
	}
	if ((dot1 = memchr(jwt, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt))) ==
	    NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt))) {
		util_seterr(err, errsz, "not a compact JWS");
		goto out;
	}
	if ((raw = util_b64url_decode(jwt, (size_t)(dot1 - jwt),
	    &rawlen)) == NULL ||
	    (hdr = json_parse((char *)raw, rawlen, OIDC_MAX_JWT, err,
	    errsz)) == NULL || !cJSON_IsObject(hdr) ||
	    json_has_duplicates(hdr)) {
		util_seterr(err, errsz, "header is not a JSON object");
		goto out;
	}

	alg = json_str(hdr, "alg");
	if (alg_kind(alg) == KEY_NONE) {
		util_seterr(err, errsz, "alg %.16s is not on the allow-list",
		    alg ? alg : "(missing)");
		r = OIDC_ALG_NOT_ALLOWED;
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(hdr, "crit") != NULL) {
		util_seterr(err, errsz, "crit header present");
		r = OIDC_CRIT_HEADER;
		goto out;
	}
	kid = json_str(hdr, "kid");
	if (kid == NULL && cJSON_GetObjectItemCaseSensitive(hdr, "kid")) {
		util_seterr(err, errsz, "kid is not a string");
		goto out;
	}
	if ((r = jwks_find(jwks, alg, kid, &key)) != OIDC_OK) {
		util_seterr(err, errsz,
		    "%s (alg %s, kid %.64s)", oidc_strerror(r),
		    alg, kid ? kid : "(none)");
		goto out;
	}

	r = OIDC_MALFORMED;
	if (dot1 == jwt || dot2 == dot1 + 1 || dot2 + 1 == jwt + len ||
	    !util_b64url_ok(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
	    !util_b64url_ok(dot2 + 1, len - (size_t)(dot2 + 1 - jwt))) {
		util_seterr(err, errsz, "token parts are not base64url");
		goto out;
	}
	if ((jws = cjose_jws_import(jwt, len, &cerr)) == NULL) {
		util_seterr(err, errsz, "cjose: %s", cerr.message);
		goto out;
	}
	/* cjose verifies with the alg it parsed itself: it must be ours. */
	calg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG,
	    &cerr);
	if (calg == NULL || strcmp(calg, alg) != 0) {
		util_seterr(err, errsz, "header parsers disagree on alg");
		goto out;
	}
	if (!cjose_jws_verify(jws, key->jwk, &cerr)) {
		util_seterr(err, errsz,
		    "signature does not verify with kid %.64s",
		    key->kid);
		r = OIDC_BAD_SIGNATURE;
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plainlen, &cerr) ||
	    (payload = json_parse((const char *)plain, plainlen, OIDC_MAX_JWT,
	    err, errsz)) == NULL || !cJSON_IsObject(payload) ||
	    json_has_duplicates(payload)) {
		util_seterr(err, errsz, "payload is not a JSON object");
		goto out;
	}
	r = claims_check(payload, e, now, out, err, errsz);
out:
	if (r != OIDC_OK)
		oidc_claims_free(out);
	cJSON_Delete(payload);
	cJSON_Delete(hdr);
	cjose_jws_release(jws);
	free(raw);
	return r;
}

const char *
oidc_role_for_groups(const struct oidc_strlist *groups,
    const struct oidc_strlist *deployer_groups,
    const struct oidc_strlist *admin_groups)
{
	size_t	i;
	bool	deployer = false;

	if (groups == NULL)
		return NULL;
	for (i = 0; i < groups->n; i++) {
		if (oidc_strlist_contains(admin_groups, groups->v[i]))
			return "admin";
		if (oidc_strlist_contains(deployer_groups, groups->v[i]))
			deployer = true;
	}
	return deployer ? "deployer" : NULL;
}

/* ---- Token response ---- */

int
oidc_token_response_parse(const char *json, size_t len, char **id_token,
    char *err, size_t errsz)
{
	const char	*e, *desc, *type, *tok;
	cJSON		*o;
	int		 rc = -1;

	if (id_token == NULL)
		return -1;
	*id_token = NULL;
	if ((o = json_parse(json, len, OIDC_MAX_DISCOVERY, err, errsz)) == NULL)
		return -1;
	if (!cJSON_IsObject(o)) {
		util_seterr(err, errsz, "token response is not an object");
		goto out;
	}
	if ((e = json_str(o, "error")) != NULL) {
		desc = json_str(o, "error_description");
		util_seterr(err, errsz, "provider error: %.64s%s%.200s", e,
		    desc ? ": " : "", desc ? desc : "");
		goto out;
	}
	type = json_str(o, "token_type");
	if (type == NULL || strcasecmp(type, "Bearer") != 0) {
		util_seterr(err, errsz, "token_type is not Bearer");
		goto out;
	}
	tok = json_str(o, "id_token");
	if (tok == NULL || *tok == '\0' || strlen(tok) > OIDC_MAX_JWT) {
		util_seterr(err, errsz, "no id_token in the token response");
		goto out;
	}
	if ((*id_token = strdup(tok)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}
