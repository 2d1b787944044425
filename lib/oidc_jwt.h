/* oidc_jwt.h: the pure OpenID Connect checks: discovery documents, JWK
 * sets, ID tokens, token responses (no I/O; fuzzed by fuzz/oidc_jwt.c). */
#ifndef SPIDERPIG_OIDC_JWT_H
#define SPIDERPIG_OIDC_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

/*
 * Everything here is pure: no I/O, no clock (callers pass now), no
 * randomness. Objects returned by *_parse and the members filled in by
 * oidc_id_token_verify are owned by the caller and released with the
 * matching *_free function, which accepts NULL. A parsed JWKS is never
 * modified after oidc_jwks_parse returns, so threads may share it read-only.
 */

/* Caps on outside input, in bytes. Larger input is refused, not truncated. */
#define OIDC_MAX_DISCOVERY	(64 * 1024)
#define OIDC_MAX_JWKS		(256 * 1024)
#define OIDC_MAX_JWT		(16 * 1024)
#define OIDC_MAX_KEYS		32
#define OIDC_MAX_GROUPS		256
#define OIDC_MAX_CLAIM_LEN	1024	/* one string claim or group name */
#define OIDC_MAX_SKEW		120	/* seconds */
#define OIDC_JWKS_REFETCH_MIN	60	/* seconds between two JWKS fetches */

/* How long fetched keys are kept (oidc_jwks_ttl), in seconds. */
#define OIDC_JWKS_TTL_MIN	60	/* floor: no-store, max-age=0 */
#define OIDC_JWKS_TTL_DEFAULT	3600	/* no Cache-Control max-age */
#define OIDC_JWKS_TTL_MAX	86400	/* ceiling */

/* An owned list of owned NUL-terminated strings. */
struct oidc_strlist {
	char	**v;
	size_t	  n;
};

void	 oidc_strlist_free(struct oidc_strlist *);	/* members only */
bool	 oidc_strlist_contains(const struct oidc_strlist *, const char *);

/* ---- Discovery (OpenID Connect Discovery 1.0) ---- */

/* Flag: accept http:// endpoints on 127.0.0.1 or localhost (tests only). */
#define OIDC_ALLOW_LOOPBACK_HTTP	UTIL_URL_LOOPBACK_HTTP

struct oidc_discovery {
	char	*issuer;
	char	*authorization_endpoint;
	char	*token_endpoint;
	char	*jwks_uri;
	char	*userinfo_endpoint;		/* NULL when not advertised */
	char	*end_session_endpoint;		/* NULL when not advertised */
	bool	 iss_parameter_supported;	/* RFC 9207 */
};

/*
 * Parse a discovery document of len bytes. The issuer must equal
 * expected_issuer byte for byte, every endpoint must be https:// (or
 * loopback http:// with OIDC_ALLOW_LOOPBACK_HTTP), and
 * code_challenge_methods_supported must list S256. On success *out is a new
 * object for oidc_discovery_free and 0 is returned; otherwise -1 and err
 * says why.
 */
int	 oidc_discovery_parse(const char *json, size_t len,
	    const char *expected_issuer, int flags,
	    struct oidc_discovery **out, char *err, size_t errsz);
void	 oidc_discovery_free(struct oidc_discovery *);

/*
 * RFC 9207: the iss parameter of an authorization response. When the
 * provider advertises it, it must be present; when present it must equal
 * the issuer. iss may be NULL (absent).
 */
bool	 oidc_callback_iss_ok(const struct oidc_discovery *, const char *iss);

/* ---- JWKS ---- */

struct oidc_jwks;

/*
 * Parse a JWK Set of len bytes. Only signing keys the verifier can use are
 * kept: kty RSA (>= 2048 bits) or EC (P-256, P-384), with a kid, use absent
 * or "sig", alg absent or in the allow-list. Other keys are skipped; a set
 * with no usable key is an error. Returns NULL with err on failure.
 */
struct oidc_jwks *oidc_jwks_parse(const char *json, size_t len,
	    char *err, size_t errsz);
void	 oidc_jwks_free(struct oidc_jwks *);
size_t	 oidc_jwks_count(const struct oidc_jwks *);

/*
 * JWKS cache policy: true when a fetch is allowed, i.e. at least
 * OIDC_JWKS_REFETCH_MIN seconds passed since last_fetch (0 for never), or
 * the clock went backwards. An unknown kid therefore costs at most one fetch a
 * minute, however many forged tokens arrive.
 */
bool	 oidc_jwks_may_refetch(time_t last_fetch, time_t now);

/*
 * Seconds to keep a JWKS fetched with the Cache-Control header value cc
 * (NULL when absent): its max-age within [OIDC_JWKS_TTL_MIN,
 * OIDC_JWKS_TTL_MAX]; OIDC_JWKS_TTL_MIN for no-store or no-cache (kept that
 * long anyway, so a burst of logins is not a burst of fetches);
 * OIDC_JWKS_TTL_DEFAULT without a usable max-age.
 */
long	 oidc_jwks_ttl(const char *cc);

/* ---- ID token ---- */

enum oidc_result {
	OIDC_OK = 0,
	OIDC_EINVAL,		/* bad argument from the caller */
	OIDC_ENOMEM,
	OIDC_MALFORMED,		/* not a compact JWS with JSON header/payload */
	OIDC_ALG_NOT_ALLOWED,	/* none, HS*, anything off the allow-list */
	OIDC_CRIT_HEADER,	/* crit extensions we do not understand */
	OIDC_MISSING_KID,	/* no kid and not exactly one candidate key */
	OIDC_UNKNOWN_KID,	/* refetch the JWKS (once) and retry */
	OIDC_KEY_TYPE_MISMATCH,	/* key kty/curve/alg does not fit the alg */
	OIDC_BAD_SIGNATURE,
	OIDC_BAD_ISSUER,
	OIDC_BAD_AUDIENCE,
	OIDC_BAD_AZP,
	OIDC_EXPIRED,
	OIDC_IAT_IN_FUTURE,
	OIDC_NOT_YET_VALID,	/* nbf */
	OIDC_MISSING_TIME,	/* exp or iat absent or not a number */
	OIDC_BAD_NONCE,
	OIDC_MISSING_SUB,
	OIDC_MISSING_USERNAME,	/* username claim present but not a string */
	OIDC_BAD_GROUPS,	/* groups claim not an array of strings */
	OIDC_RESULT_COUNT
};

/* A constant English description of r; never NULL. */
const char *oidc_strerror(enum oidc_result r);

struct oidc_expect {
	const char	*issuer;	/* from the discovery document */
	const char	*client_id;
	const char	*nonce;		/* the one sent with this login */
	int		 skew;		/* seconds, 0..OIDC_MAX_SKEW */
	const char	*username_claim; /* NULL: "preferred_username";
					    absent claim: sub is used */
	const char	*groups_claim;	/* NULL: "groups"; absent claim = [] */
};

struct oidc_claims {
	char			*sub;
	char			*username;
	struct oidc_strlist	 groups;
	time_t			 exp;
	time_t			 iat;
};

/*
 * Verify a compact-serialised ID token: algorithm allow-list, key by kid,
 * key type matching the algorithm, signature, then iss, aud, azp, exp, iat,
 * nbf, nonce, sub. On OIDC_OK *out holds copies of the claims (release with
 * oidc_claims_free); on failure *out is zeroed and err says why in more
 * detail than oidc_strerror. out must not hold claims on entry.
 */
enum oidc_result oidc_id_token_verify(const char *jwt,
	    const struct oidc_jwks *jwks, const struct oidc_expect *expect,
	    time_t now, struct oidc_claims *out, char *err, size_t errsz);
void	 oidc_claims_free(struct oidc_claims *);	/* members only */

/* "admin" when a group is in admin_groups, else "deployer" when one is in
 * deployer_groups, else NULL (no access). Exact, case-sensitive matches. */
const char *oidc_role_for_groups(const struct oidc_strlist *groups,
	    const struct oidc_strlist *deployer_groups,
	    const struct oidc_strlist *admin_groups);

/* ---- Token response ---- */

/*
 * A token endpoint response of len bytes: token_type Bearer and an
 * id_token, copied into *id_token (free()). An OAuth error response, or
 * anything else, gives -1 with err.
 */
int	 oidc_token_response_parse(const char *json, size_t len,
	    char **id_token, char *err, size_t errsz);

#endif
