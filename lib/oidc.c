/* oidc.c: OpenID Connect relying party: discovery, JWKS, ID token checks. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <cjose/cjose.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "oidc.h"

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

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

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

bool
oidc_secret_equal(const char *a, const char *b)
{
	size_t	la, lb;

	if (a == NULL || b == NULL)
		return false;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; out needs 4*len/3+2 bytes. Returns -1 if not. */
static int
b64url_encode(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	size_t		i, o = 0;
	unsigned int	acc = 0;
	int		bits = 0;

	if (outsz < (len * 4 + 2) / 3 + 1)
		return -1;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url_alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64url_alphabet[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
	return 0;
}

static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * True when s[0..len) is base64url without padding that decodes to whole
 * bytes. cjose's decoder assert()s on some malformed input (found by
 * fuzz/oidc_jwt.c: a '=' inside a JWK member aborts the process), so
 * nothing reaches it unchecked.
 */
static bool
b64url_ok(const char *s, size_t len)
{
	size_t	i;

	if (len % 4 == 1)
		return false;
	for (i = 0; i < len; i++)
		if (b64url_value((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/*
 * Strict base64url decoding (RFC 7515 2: no padding, no whitespace, unused
 * bits zero) of len bytes into a new NUL-terminated buffer. NULL on error.
 */
static unsigned char *
b64url_decode(const char *in, size_t len, size_t *outlen)
{
	unsigned char	*out;
	unsigned int	 acc = 0;
	int		 bits = 0, v;
	size_t		 i, o = 0;

	if (len % 4 == 1)
		return NULL;
	if ((out = malloc(len * 3 / 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((v = b64url_value((unsigned char)in[i])) < 0)
			goto fail;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >> bits) & 0xff;
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		goto fail;		/* one spelling per byte string */
	out[o] = '\0';
	*outlen = o;
	return out;
fail:
	free(out);
	return NULL;
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
		seterr(err, errsz, "empty document");
		return NULL;
	}
	if (len > max) {
		seterr(err, errsz, "document larger than %zu bytes", max);
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL || memmem(buf, len, "\\u0000", 6)) {
		seterr(err, errsz, "document contains a NUL character");
		return NULL;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		seterr(err, errsz, "out of memory");
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
		seterr(err, errsz, "invalid JSON");
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

/* ---- PKCE, state, nonce ---- */

static int
random_b64url(char out[OIDC_TOKEN_LEN])
{
	unsigned char	raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	return b64url_encode(raw, sizeof(raw), out, OIDC_TOKEN_LEN);
}

int
oidc_random_state(char out[OIDC_TOKEN_LEN])
{
	return random_b64url(out);
}

int
oidc_pkce_challenge(const char *verifier, char out[OIDC_TOKEN_LEN])
{
	unsigned char	md[32];
	unsigned int	mdlen = sizeof(md);
	size_t		i, len;

	if (verifier == NULL)
		return -1;
	len = strnlen(verifier, 129);
	if (len < 43 || len > 128)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)verifier[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_' &&
		    c != '~')
			return -1;
	}
	if (EVP_Digest(verifier, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	return b64url_encode(md, mdlen, out, OIDC_TOKEN_LEN);
}

int
oidc_pkce_new(struct oidc_pkce *p)
{
	if (p == NULL || random_b64url(p->verifier) == -1)
		return -1;
	return oidc_pkce_challenge(p->verifier, p->challenge);
}

/* ---- Discovery ---- */

/*
 * An endpoint or issuer URL: https://authority[/...] with no userinfo, no
 * fragment, no whitespace or control characters. http:// only with
 * OIDC_ALLOW_LOOPBACK_HTTP and a loopback host.
 */
static bool
url_ok(const char *url, int flags)
{
	const char	*p, *auth;
	size_t		 alen, hlen;
	bool		 http = false;

	if (url == NULL)
		return false;
	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0 &&
	    (flags & OIDC_ALLOW_LOOPBACK_HTTP)) {
		auth = url + 7;
		http = true;
	} else
		return false;
	for (p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '#' || *p == '\\')
			return false;
	alen = strcspn(auth, "/?");
	if (alen == 0 || memchr(auth, '@', alen) != NULL)
		return false;
	if (!http)
		return true;
	if (auth[0] == '[')
		hlen = strcspn(auth, "]") + 1;
	else
		hlen = strcspn(auth, ":/?");
	if (hlen > alen)
		return false;
	if (auth[hlen] != '\0' && auth[hlen] != ':' && auth[hlen] != '/' &&
	    auth[hlen] != '?')
		return false;
	return (hlen == 9 && strncmp(auth, "127.0.0.1", 9) == 0) ||
	    (hlen == 9 && strncmp(auth, "localhost", 9) == 0) ||
	    (hlen == 5 && strncmp(auth, "[::1]", 5) == 0);
}

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
	if (!cJSON_IsString(v) || !url_ok(v->valuestring, flags)) {
		seterr(err, errsz, "%s: %s", name, v == NULL ? "missing" :
		    "not an https URL");
		return -1;
	}
	if ((*dst = strdup(v->valuestring)) == NULL) {
		seterr(err, errsz, "out of memory");
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
	if (!url_ok(expected_issuer, flags)) {
		seterr(err, errsz, "configured issuer is not an https URL");
		return -1;
	}
	if ((o = json_parse(json, len, OIDC_MAX_DISCOVERY, err, errsz)) == NULL)
		return -1;
	if (!cJSON_IsObject(o)) {
		seterr(err, errsz, "discovery document is not an object");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "issuer");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, expected_issuer)) {
		seterr(err, errsz, "issuer %s%s%s does not match %s",
		    cJSON_IsString(v) ? "\"" : "",
		    cJSON_IsString(v) ? v->valuestring : "(missing)",
		    cJSON_IsString(v) ? "\"" : "", expected_issuer);
		goto out;
	}
	if ((d->issuer = strdup(v->valuestring)) == NULL) {
		seterr(err, errsz, "out of memory");
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
		seterr(err, errsz, "provider does not support PKCE S256");
		goto out;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "response_types_supported");
	if (!json_array_has(a, "code")) {
		seterr(err, errsz, "provider does not support response_type code");
		goto out;
	}
	a = cJSON_GetObjectItemCaseSensitive(o,
	    "id_token_signing_alg_values_supported");
	if (a != NULL) {
		cJSON_ArrayForEach(v, a)
			if (cJSON_IsString(v) && alg_kind(v->valuestring))
				any_alg = true;
		if (!any_alg) {
			seterr(err, errsz, "provider signs ID tokens with no "
			    "algorithm we accept");
			goto out;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(o,
	    "authorization_response_iss_parameter_supported");
	if (v != NULL && !cJSON_IsBool(v)) {
		seterr(err, errsz, "authorization_response_iss_parameter_"
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
		    !b64url_ok(v, strlen(v)))
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
		seterr(err, errsz, "not a JWK set");
		goto fail;
	}
	n = cJSON_GetArraySize(keys);
	if (n > OIDC_MAX_KEYS) {
		seterr(err, errsz, "more than %d keys", OIDC_MAX_KEYS);
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 && (s->keys = calloc((size_t)n, sizeof(*s->keys))) == NULL)) {
		seterr(err, errsz, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(j, keys) {
		if ((r = jwks_import_key(j, &s->keys[s->n])) == -1) {
			seterr(err, errsz, "out of memory");
			goto fail;
		}
		if (r == 1)
			s->n++;
	}
	if (s->n == 0) {
		seterr(err, errsz, "no usable signing key");
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
		seterr(err, errsz, "iss is not %s", e->issuer);
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
		seterr(err, errsz, "azp %s with %zu audiences",
		    azp ? "is another client" : "missing", naud);
		return OIDC_BAD_AZP;
	}

	if ((exp = json_time(p, "exp")) == -1 ||
	    (iat = json_time(p, "iat")) == -1) {
		seterr(err, errsz, "exp and iat must be NumericDates");
		return OIDC_MISSING_TIME;
	}
	if (exp <= t - e->skew) {
		seterr(err, errsz, "expired %lld s ago", t - exp);
		return OIDC_EXPIRED;
	}
	if (iat > t + e->skew) {
		seterr(err, errsz, "iat %lld s ahead", iat - t);
		return OIDC_IAT_IN_FUTURE;
	}
	if (cJSON_GetObjectItemCaseSensitive(p, "nbf") != NULL) {
		if ((nbf = json_time(p, "nbf")) == -1) {
			seterr(err, errsz, "nbf is not a NumericDate");
			return OIDC_MISSING_TIME;
		}
		if (nbf > t + e->skew) {
			seterr(err, errsz, "valid only in %lld s", nbf - t);
			return OIDC_NOT_YET_VALID;
		}
	}

	if (!oidc_secret_equal(json_str(p, "nonce"), e->nonce)) {
		seterr(err, errsz, "nonce differs from the one we sent");
		return OIDC_BAD_NONCE;
	}
	if (!claim_string_ok(sub = json_str(p, "sub"))) {
		seterr(err, errsz, "sub missing or too long");
		return OIDC_MISSING_SUB;
	}
	/* The contract's username_claim "falls back to sub" when absent; a
	 * present but unusable value is an error, not a silent fallback. */
	if (cJSON_GetObjectItemCaseSensitive(p, uclaim) == NULL)
		user = sub;
	else if (!claim_string_ok(user = json_str(p, uclaim))) {
		seterr(err, errsz, "%s is not a non-empty string", uclaim);
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
	seterr(err, errsz, "aud does not contain %s", e->client_id);
	return OIDC_BAD_AUDIENCE;
bad_groups:
	seterr(err, errsz, "%s is not an array of strings", gclaim);
	return OIDC_BAD_GROUPS;
nomem:
	oidc_claims_free(out);
	seterr(err, errsz, "out of memory");
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

	seterr(err, errsz, "%s", "");
	if (out == NULL)
		return OIDC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (jwt == NULL || jwks == NULL || e == NULL || e->issuer == NULL ||
	    e->client_id == NULL || e->nonce == NULL || e->skew < 0 ||
	    e->skew > OIDC_MAX_SKEW) {
		seterr(err, errsz, "bad arguments");
		return OIDC_EINVAL;
	}

	/* Compact JWS: exactly three dot-separated parts (a JWE has five). */
	r = OIDC_MALFORMED;
	len = strnlen(jwt, OIDC_MAX_JWT + 1);
	if (len > OIDC_MAX_JWT) {
		seterr(err, errsz, "token longer than %d bytes", OIDC_MAX_JWT);
		goto out;
	}
	if ((dot1 = memchr(jwt, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt))) ==
	    NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt))) {
		seterr(err, errsz, "not a compact JWS");
		goto out;
	}
	if ((raw = b64url_decode(jwt, (size_t)(dot1 - jwt), &rawlen)) == NULL ||
	    (hdr = json_parse((char *)raw, rawlen, OIDC_MAX_JWT, err,
	    errsz)) == NULL || !cJSON_IsObject(hdr) ||
	    json_has_duplicates(hdr)) {
		seterr(err, errsz, "header is not a JSON object");
		goto out;
	}

	alg = json_str(hdr, "alg");
	if (alg_kind(alg) == KEY_NONE) {
		seterr(err, errsz, "alg %.16s is not on the allow-list",
		    alg ? alg : "(missing)");
		r = OIDC_ALG_NOT_ALLOWED;
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(hdr, "crit") != NULL) {
		seterr(err, errsz, "crit header present");
		r = OIDC_CRIT_HEADER;
		goto out;
	}
	kid = json_str(hdr, "kid");
	if (kid == NULL && cJSON_GetObjectItemCaseSensitive(hdr, "kid")) {
		seterr(err, errsz, "kid is not a string");
		goto out;
	}
	if ((r = jwks_find(jwks, alg, kid, &key)) != OIDC_OK) {
		seterr(err, errsz, "%s (alg %s, kid %.64s)", oidc_strerror(r),
		    alg, kid ? kid : "(none)");
		goto out;
	}

	r = OIDC_MALFORMED;
	if (dot1 == jwt || dot2 == dot1 + 1 || dot2 + 1 == jwt + len ||
	    !b64url_ok(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
	    !b64url_ok(dot2 + 1, len - (size_t)(dot2 + 1 - jwt))) {
		seterr(err, errsz, "token parts are not base64url");
		goto out;
	}
	if ((jws = cjose_jws_import(jwt, len, &cerr)) == NULL) {
		seterr(err, errsz, "cjose: %s", cerr.message);
		goto out;
	}
	/* cjose verifies with the alg it parsed itself: it must be ours. */
	calg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG,
	    &cerr);
	if (calg == NULL || strcmp(calg, alg) != 0) {
		seterr(err, errsz, "header parsers disagree on alg");
		goto out;
	}
	if (!cjose_jws_verify(jws, key->jwk, &cerr)) {
		seterr(err, errsz, "signature does not verify with kid %.64s",
		    key->kid);
		r = OIDC_BAD_SIGNATURE;
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plainlen, &cerr) ||
	    (payload = json_parse((const char *)plain, plainlen, OIDC_MAX_JWT,
	    err, errsz)) == NULL || !cJSON_IsObject(payload) ||
	    json_has_duplicates(payload)) {
		seterr(err, errsz, "payload is not a JSON object");
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

/* ---- Authorization request and token response ---- */

/* Append s percent-encoded (RFC 3986 unreserved kept) to b; -1 if no room. */
static int
pct_append(char *b, size_t bsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (*o + 1 >= bsz)
				return -1;
			b[(*o)++] = (char)c;
		} else {
			if (*o + 3 >= bsz)
				return -1;
			b[(*o)++] = '%';
			b[(*o)++] = hex[c >> 4];
			b[(*o)++] = hex[c & 0xf];
		}
	}
	b[*o] = '\0';
	return 0;
}

static int
raw_append(char *b, size_t bsz, size_t *o, const char *s)
{
	size_t	l = strlen(s);

	if (*o + l >= bsz)
		return -1;
	memcpy(b + *o, s, l + 1);
	*o += l;
	return 0;
}

/*
 * Encode a NULL-terminated name, value list as name=value&... into a new
 * string (free()). When first_sep is not 0 it is written first.
 */
static char *
form_encode(const char *prefix, char first_sep, const char *const *f)
{
	size_t	 i, need = 2, o = 0;
	char	*b, sep[2] = { first_sep, '\0' };

	if (prefix != NULL)
		need += strlen(prefix);
	for (i = 0; f[i] != NULL && f[i + 1] != NULL; i += 2)
		need += 3 * (strlen(f[i]) + strlen(f[i + 1])) + 2;
	if ((b = malloc(need)) == NULL)
		return NULL;
	b[0] = '\0';
	if (prefix != NULL && raw_append(b, need, &o, prefix) == -1)
		goto fail;
	for (i = 0; f[i] != NULL && f[i + 1] != NULL; i += 2) {
		if (sep[0] != '\0' && raw_append(b, need, &o, sep) == -1)
			goto fail;
		sep[0] = '&';
		if (pct_append(b, need, &o, f[i]) == -1 ||
		    raw_append(b, need, &o, "=") == -1 ||
		    pct_append(b, need, &o, f[i + 1]) == -1)
			goto fail;
	}
	return b;
fail:
	free(b);
	return NULL;
}

char *
oidc_authorization_url(const struct oidc_discovery *d, const char *client_id,
    const char *redirect_uri, const char *scope, const char *state,
    const char *nonce, const char *code_challenge)
{
	const char	*f[] = {
		"response_type", "code",
		"client_id", client_id,
		"redirect_uri", redirect_uri,
		"scope", scope,
		"state", state,
		"nonce", nonce,
		"code_challenge", code_challenge,
		"code_challenge_method", "S256",
		NULL
	};
	size_t		 i;

	if (d == NULL || d->authorization_endpoint == NULL)
		return NULL;
	for (i = 0; f[i] != NULL; i += 2)
		if (f[i + 1] == NULL)
			return NULL;
	return form_encode(d->authorization_endpoint,
	    strchr(d->authorization_endpoint, '?') ? '&' : '?', f);
}

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
		seterr(err, errsz, "token response is not an object");
		goto out;
	}
	if ((e = json_str(o, "error")) != NULL) {
		desc = json_str(o, "error_description");
		seterr(err, errsz, "provider error: %.64s%s%.200s", e,
		    desc ? ": " : "", desc ? desc : "");
		goto out;
	}
	type = json_str(o, "token_type");
	if (type == NULL || strcasecmp(type, "Bearer") != 0) {
		seterr(err, errsz, "token_type is not Bearer");
		goto out;
	}
	tok = json_str(o, "id_token");
	if (tok == NULL || *tok == '\0' || strlen(tok) > OIDC_MAX_JWT) {
		seterr(err, errsz, "no id_token in the token response");
		goto out;
	}
	if ((*id_token = strdup(tok)) == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* ---- HTTP ---- */

struct http_sink {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

int
oidc_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* libcurl write callback: append, refusing to grow past sink->max. */
static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_sink	*s = arg;
	size_t			 n = size * nmemb, ncap;
	char			*nbuf;

	if (n > s->max - s->len)
		return 0;		/* too big: abort the transfer */
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((nbuf = realloc(s->buf, ncap)) == NULL)
			return 0;
		s->buf = nbuf;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/*
 * One request with the common limits; postbody NULL means GET. headers is
 * an optional curl_slist. Returns the HTTP status or -1.
 */
static int
http_request(const char *url, int flags, const char *postbody,
    struct curl_slist *headers, size_t max_bytes, long timeout_s,
    char **body, size_t *len, char *err, size_t errsz)
{
	struct http_sink	 sink = { NULL, 0, 0, max_bytes };
	char			 cerr[CURL_ERROR_SIZE] = "";
	CURL			*c = NULL;
	CURLcode		 cc;
	long			 status = -1;

	*body = NULL;
	*len = 0;
	if (!url_ok(url, flags)) {
		seterr(err, errsz, "refusing URL %.200s", url ? url : "(null)");
		return -1;
	}
	if (max_bytes == 0 || timeout_s <= 0) {
		seterr(err, errsz, "bad limits");
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		seterr(err, errsz, "curl_easy_init failed");
		return -1;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    (flags & OIDC_ALLOW_LOOPBACK_HTTP) ? "http,https" : "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    timeout_s < 10 ? timeout_s : 10L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)max_bytes) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "spiderpig-oidc") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    (headers != NULL &&
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK) ||
	    (postbody != NULL &&
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, postbody) != CURLE_OK)) {
		seterr(err, errsz, "curl_easy_setopt failed");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		seterr(err, errsz, "%s: %s", cc == CURLE_WRITE_ERROR ?
		    "response too large" : curl_easy_strerror(cc), cerr);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status < 100 || status > 599) {
		seterr(err, errsz, "no HTTP status");
		status = -1;
		goto out;
	}
	if (sink.buf == NULL && (sink.buf = calloc(1, 1)) == NULL) {
		seterr(err, errsz, "out of memory");
		status = -1;
		goto out;
	}
	*body = sink.buf;
	*len = sink.len;
	sink.buf = NULL;
out:
	free(sink.buf);
	curl_easy_cleanup(c);
	return (int)status;
}

int
oidc_http_get(const char *url, int flags, size_t max_bytes, long timeout_s,
    char **body, size_t *len, char *err, size_t errsz)
{
	struct curl_slist	*h;
	int			 rc;

	if (body == NULL || len == NULL)
		return -1;
	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		return -1;
	rc = http_request(url, flags, NULL, h, max_bytes, timeout_s, body,
	    len, err, errsz);
	curl_slist_free_all(h);
	return rc;
}

/* s percent-encoded into a new string (free()), or NULL. */
static char *
pct_encode(const char *s)
{
	size_t	 need = 3 * strlen(s) + 1, o = 0;
	char	*b;

	if ((b = malloc(need)) == NULL)
		return NULL;
	if (pct_append(b, need, &o, s) == -1) {
		free(b);
		return NULL;
	}
	return b;
}

/* "Authorization: Basic base64(enc(user):enc(pass))" (RFC 6749 2.3.1). */
static char *
basic_auth_header(const char *user, const char *pass)
{
	static const char prefix[] = "Authorization: Basic ";
	char	*eu = NULL, *ep = NULL, *joined = NULL, *h = NULL;
	size_t	 jlen;

	if ((eu = pct_encode(user)) == NULL || (ep = pct_encode(pass)) == NULL)
		goto out;
	jlen = strlen(eu) + 1 + strlen(ep);
	if ((joined = malloc(jlen + 1)) == NULL)
		goto out;
	snprintf(joined, jlen + 1, "%s:%s", eu, ep);
	if ((h = malloc(sizeof(prefix) + 4 * (jlen / 3 + 1))) == NULL)
		goto out;
	memcpy(h, prefix, sizeof(prefix));
	EVP_EncodeBlock((unsigned char *)h + sizeof(prefix) - 1,
	    (unsigned char *)joined, (int)jlen);
out:
	if (ep != NULL)
		OPENSSL_cleanse(ep, strlen(ep));
	if (joined != NULL)
		OPENSSL_cleanse(joined, jlen);
	free(eu);
	free(ep);
	free(joined);
	return h;
}

int
oidc_http_post_form(const char *url, int flags, const char *basic_user,
    const char *basic_pass, const char *const *fields, size_t max_bytes,
    long timeout_s, char **body, size_t *len, char *err, size_t errsz)
{
	struct curl_slist	*h = NULL, *nh;
	char			*form = NULL, *auth = NULL;
	int			 rc = -1;

	if (body == NULL || len == NULL || fields == NULL ||
	    (basic_user != NULL && basic_pass == NULL))
		return -1;
	*body = NULL;
	*len = 0;
	if ((form = form_encode(NULL, 0, fields)) == NULL)
		goto nomem;
	if ((nh = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto nomem;
	h = nh;
	if ((nh = curl_slist_append(h, "Content-Type: "
	    "application/x-www-form-urlencoded")) == NULL)
		goto nomem;
	h = nh;
	if (basic_user != NULL) {
		if ((auth = basic_auth_header(basic_user, basic_pass)) == NULL)
			goto nomem;
		if ((nh = curl_slist_append(h, auth)) == NULL)
			goto nomem;
		h = nh;
	}
	rc = http_request(url, flags, form, h, max_bytes, timeout_s, body,
	    len, err, errsz);
	goto out;
nomem:
	seterr(err, errsz, "out of memory");
out:
	if (auth != NULL)
		OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
	free(form);
	curl_slist_free_all(h);
	return rc;
}
