/* oidc_login.c: the login flow of an OpenID Connect relying party: PKCE,
 * state, the authorization URL, the code exchange, and the provider cache
 * (discovery document and keys). Network I/O goes through httpc. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "httpc.h"
#include "oidc_login.h"
#include "util.h"

/* ---- PKCE, state, nonce ---- */

int
oidc_random_state(char out[OIDC_TOKEN_LEN])
{
	return util_random_token(32, out, OIDC_TOKEN_LEN);
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
	return util_b64url_encode(md, mdlen, out, OIDC_TOKEN_LEN);
}

int
oidc_pkce_new(struct oidc_pkce *p)
{
	if (p == NULL || oidc_random_state(p->verifier) == -1)
		return -1;
	return oidc_pkce_challenge(p->verifier, p->challenge);
}

/* ---- Authorization request ---- */

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
	return httpc_form_encode(d->authorization_endpoint,
	    strchr(d->authorization_endpoint, '?') ? '&' : '?', f);
}

/* ---- The provider cache ---- */

struct oidc_provider {
	pthread_mutex_t	 mu;
	char		*issuer;
	int		 flags;
	char		*discovery;	/* JSON text; NULL: fetch first */
	size_t		 discovery_len;
	time_t		 discovery_at;
	char		*jwks;		/* JSON text; NULL: fetch first */
	size_t		 jwks_len;
	time_t		 jwks_at;	/* last fetch attempt */
	time_t		 jwks_until;	/* keys expire (Cache-Control) */
	char		*jwks_uri;	/* where jwks came from */
};

struct oidc_provider *
oidc_provider_new(const char *issuer, int flags)
{
	struct oidc_provider	*p;

	if (issuer == NULL || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->issuer = strdup(issuer)) == NULL ||
	    pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->issuer);
		free(p);
		return NULL;
	}
	p->flags = flags;
	return p;
}

void
oidc_provider_free(struct oidc_provider *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->issuer);
	free(p->discovery);
	free(p->jwks);
	free(p->jwks_uri);
	free(p);
}

void
oidc_provider_forget_discovery(struct oidc_provider *p)
{
	pthread_mutex_lock(&p->mu);
	free(p->discovery);
	p->discovery = NULL;
	pthread_mutex_unlock(&p->mu);
}

struct oidc_discovery *
oidc_provider_discovery(struct oidc_provider *p, time_t now, char *err,
    size_t errsz)
{
	struct oidc_discovery	*d = NULL;
	struct httpc_response	 res = { 0 };
	char			 url[1100];
	size_t			 ilen = strlen(p->issuer);
	int			 status;

	pthread_mutex_lock(&p->mu);
	if (p->discovery != NULL && now >= p->discovery_at &&
	    now - p->discovery_at < OIDC_DISCOVERY_TTL) {
		oidc_discovery_parse(p->discovery, p->discovery_len, p->issuer,
		    p->flags, &d, err, errsz);
		goto out;
	}
	if (ilen > 0 && p->issuer[ilen - 1] == '/')
		ilen--;
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
	    (int)ilen, p->issuer);
	status = httpc_get(url, p->flags, OIDC_MAX_DISCOVERY,
	    OIDC_PROVIDER_TIMEOUT, &res, err, errsz);
	if (status != 200) {
		if (status > 0)
			util_seterr(err, errsz,
			    "discovery answered %d", status);
		goto out;
	}
	if (oidc_discovery_parse(res.body, res.len, p->issuer, p->flags, &d,
	    err, errsz) != 0)
		goto out;
	free(p->discovery);
	p->discovery = res.body;
	p->discovery_len = res.len;
	p->discovery_at = now;
	res.body = NULL;
out:
	pthread_mutex_unlock(&p->mu);
	httpc_response_free(&res);
	return d;
}

/*
 * Fetch d's JWKS into the cache, with p->mu held. Returns the parsed keys,
 * or NULL with err (the cache keeps what it had).
 */
static struct oidc_jwks *
jwks_fetch(struct oidc_provider *p, const struct oidc_discovery *d,
    time_t now, char *err, size_t errsz)
{
	struct httpc_response	 res = { 0 };
	struct oidc_jwks	*k = NULL;
	int			 status;

	p->jwks_at = now;
	status = httpc_get(d->jwks_uri, p->flags, OIDC_MAX_JWKS,
	    OIDC_PROVIDER_TIMEOUT, &res, err, errsz);
	if (status > 0 && status != 200)
		util_seterr(err, errsz, "the JWKS answered %d", status);
	else if (status == 200 &&
	    (k = oidc_jwks_parse(res.body, res.len, err, errsz)) != NULL) {
		free(p->jwks);
		p->jwks = res.body;
		p->jwks_len = res.len;
		p->jwks_until = now + oidc_jwks_ttl(res.cache_control);
		res.body = NULL;
	}
	httpc_response_free(&res);
	return k;
}

/*
 * The provider's keys, parsed from the cache; fetched when there are none,
 * when they expired, or with refetch (an unknown kid), as far as
 * oidc_jwks_may_refetch allows.
 */
static struct oidc_jwks *
jwks_get(struct oidc_provider *p, const struct oidc_discovery *d,
    int refetch, time_t now, char *err, size_t errsz)
{
	struct oidc_jwks	*k = NULL;
	int			 expired;

	pthread_mutex_lock(&p->mu);
	if (p->jwks_uri == NULL || strcmp(p->jwks_uri, d->jwks_uri) != 0) {
		/* Another key set: the old keys and the fetch limit are its. */
		free(p->jwks);
		free(p->jwks_uri);
		p->jwks = NULL;
		p->jwks_at = 0;
		p->jwks_uri = strdup(d->jwks_uri);
	}
	expired = now >= p->jwks_until || now < p->jwks_at;
	if ((p->jwks == NULL || refetch || expired) &&
	    oidc_jwks_may_refetch(p->jwks_at, now) &&
	    (k = jwks_fetch(p, d, now, err, errsz)) != NULL)
		goto out;
	if (p->jwks != NULL)
		k = oidc_jwks_parse(p->jwks, p->jwks_len, err, errsz);
	else if (err != NULL && err[0] == '\0')
		util_seterr(err, errsz, "no keys yet");
out:
	pthread_mutex_unlock(&p->mu);
	return k;
}

enum oidc_result
oidc_provider_verify(struct oidc_provider *p, const struct oidc_discovery *d,
    const char *id_token, const struct oidc_expect *e, time_t now,
    struct oidc_claims *out, int *keys_missing, char *err, size_t errsz)
{
	struct oidc_jwks	*k;
	enum oidc_result	 r;

	*keys_missing = 0;
	memset(out, 0, sizeof(*out));
	util_seterr(err, errsz, "%s", "");
	if ((k = jwks_get(p, d, 0, now, err, errsz)) == NULL) {
		*keys_missing = 1;
		return OIDC_UNKNOWN_KID;
	}
	r = oidc_id_token_verify(id_token, k, e, now, out, err, errsz);
	if (r == OIDC_UNKNOWN_KID) {
		/* Keys rotate: one refetch, rate-limited in jwks_get. */
		oidc_jwks_free(k);
		util_seterr(err, errsz, "%s", "");
		if ((k = jwks_get(p, d, 1, now, err, errsz)) != NULL)
			r = oidc_id_token_verify(id_token, k, e, now, out, err,
			    errsz);
	}
	oidc_jwks_free(k);
	return r;
}

char *
oidc_code_exchange(struct oidc_provider *p, const struct oidc_discovery *d,
    const char *client_id, const char *client_secret,
    const char *redirect_uri, const char *code, const char *verifier,
    int *status, char *err, size_t errsz)
{
	const char		*fields[] = {
		"grant_type", "authorization_code",
		"code", code,
		"redirect_uri", redirect_uri,
		"code_verifier", verifier,
		NULL
	};
	struct httpc_response	 res = { 0 };
	char			*id_token = NULL;
	int			 hs;

	*status = 502;
	hs = httpc_post_form(d->token_endpoint, p->flags, client_id,
	    client_secret, fields, OIDC_TOKEN_RESPONSE_MAX,
	    OIDC_PROVIDER_TIMEOUT, &res, err, errsz);
	if (hs < 0) {
		oidc_provider_forget_discovery(p);
		goto out;
	}
	if (oidc_token_response_parse(res.body, res.len, &id_token, err,
	    errsz) != 0) {
		/* 400 invalid_grant: a used, expired or foreign code. */
		*status = hs == 400 ? 400 : 502;
		if (hs >= 500)
			oidc_provider_forget_discovery(p);
	}
out:
	httpc_response_free(&res);
	return id_token;
}
