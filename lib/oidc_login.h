/* oidc_login.h: the OpenID Connect login flow of a relying party: PKCE,
 * state and nonce, the authorization URL, the code exchange, and the
 * provider's discovery document and keys, fetched and cached. */
#ifndef SPIDERPIG_OIDC_LOGIN_H
#define SPIDERPIG_OIDC_LOGIN_H

#include <time.h>

#include "oidc_jwt.h"

/* ---- Randomness: PKCE (RFC 7636), state and nonce ---- */

#define OIDC_TOKEN_LEN	44	/* 32 random bytes, base64url, NUL */

struct oidc_pkce {
	char	verifier[OIDC_TOKEN_LEN];	/* 43 chars */
	char	challenge[OIDC_TOKEN_LEN];	/* BASE64URL(SHA256(verifier)) */
};

/* A fresh verifier from 32 random bytes and its S256 challenge. 0 or -1. */
int	 oidc_pkce_new(struct oidc_pkce *);

/* The S256 challenge of verifier into out (OIDC_TOKEN_LEN bytes).
 * Returns -1 when the verifier is not 43..128 RFC 7636 characters. */
int	 oidc_pkce_challenge(const char *verifier, char out[OIDC_TOKEN_LEN]);

/* A state or nonce: 32 random bytes, base64url (43 chars). 0 or -1. */
int	 oidc_random_state(char out[OIDC_TOKEN_LEN]);

/* ---- Authorization request ---- */

/*
 * The authorization request URL (code flow, PKCE S256) as a new string
 * (free()), every parameter percent-encoded; NULL if an argument is NULL.
 */
char	*oidc_authorization_url(const struct oidc_discovery *,
	    const char *client_id, const char *redirect_uri, const char *scope,
	    const char *state, const char *nonce, const char *code_challenge);

/* ---- The provider: what we fetch from it, cached ---- */

/* Seconds for one request to the provider, and the token response cap. */
#define OIDC_PROVIDER_TIMEOUT	10
#define OIDC_DISCOVERY_TTL	3600	/* seconds a discovery is kept */
#define OIDC_TOKEN_RESPONSE_MAX	(64 * 1024)

/*
 * One provider's discovery document and JWKS, shared by the serving threads
 * (it locks itself). Both are kept as the text fetched and parsed again per
 * use, so a refresh never frees what another thread is reading. The lock
 * is held across a fetch: logins wait for one fetch instead of starting one
 * each.
 */
struct oidc_provider;

/* A new, empty cache for the provider at issuer (copied); flags as for
 * oidc_discovery_parse. NULL when out of memory. */
struct oidc_provider *oidc_provider_new(const char *issuer, int flags);
void	 oidc_provider_free(struct oidc_provider *);

/*
 * The discovery document, from the cache (OIDC_DISCOVERY_TTL) or fetched
 * from issuer + /.well-known/openid-configuration. A new object
 * (oidc_discovery_free) or NULL with err.
 */
struct oidc_discovery *oidc_provider_discovery(struct oidc_provider *,
	    time_t now, char *err, size_t errsz);

/* Forget the discovery document after the provider failed us, so the next
 * login fetches it again. The keys stay: they are dropped only when a new
 * document names another key set. */
void	 oidc_provider_forget_discovery(struct oidc_provider *);

/*
 * Exchange code at d's token endpoint (client_secret_basic, with the PKCE
 * verifier) for an ID token. Returns it (free()), or NULL with err and
 * *status, the HTTP status to answer the browser with: 400 when the
 * provider refused the code, 502 when it failed.
 */
char	*oidc_code_exchange(struct oidc_provider *,
	    const struct oidc_discovery *d, const char *client_id,
	    const char *client_secret, const char *redirect_uri,
	    const char *code, const char *verifier, int *status, char *err,
	    size_t errsz);

/*
 * Verify id_token (oidc_id_token_verify) against the provider's keys. The
 * keys are fetched when there are none, when they expired (their
 * Cache-Control max-age: oidc_jwks_ttl), and once more when the token
 * names an unknown kid; never more often than oidc_jwks_may_refetch
 * allows, so forged kids cost at most one fetch a minute. When a fetch
 * fails the keys held are used. OIDC_OK with *out as for
 * oidc_id_token_verify; *keys_missing is set when no keys could be had at
 * all (the provider is at fault, not the token).
 */
enum oidc_result oidc_provider_verify(struct oidc_provider *,
	    const struct oidc_discovery *d, const char *id_token,
	    const struct oidc_expect *expect, time_t now,
	    struct oidc_claims *out, int *keys_missing, char *err,
	    size_t errsz);

#endif
