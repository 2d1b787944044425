/* login.c: browser login with OpenID Connect (authorization code flow,
 * PKCE S256, state bound to the browser, nonce), the provider caches,
 * browser sessions, page forms and logout. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "oidc.h"
#include "util.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define LOGIN_SCOPE		"openid"
#define LOGIN_SKEW		60	/* seconds of clock skew for ID tokens */
#define DISCOVERY_TTL		3600	/* seconds a discovery document is kept */
#define PROVIDER_TIMEOUT	10	/* seconds for one provider request */
#define TOKEN_RESPONSE_MAX	(64 * 1024)

#define CLEAR_LOGIN_COOKIE \
	"Set-Cookie: " LOGIN_COOKIE "=; Path=/; Secure; HttpOnly; " \
	"SameSite=Lax; Max-Age=0\r\n"

/*
 * The provider's discovery document and JWKS, shared by the serving
 * threads: the one piece of global state in cgi/, because fetching both on
 * every login would double the provider round trips. Both are kept as the
 * text fetched and parsed again per use, so a refresh never frees what
 * another thread is reading. mu guards the lot and is held across a fetch:
 * logins wait for one fetch instead of starting one each.
 */
static struct {
	pthread_mutex_t	 mu;
	char		*discovery;	/* JSON text; NULL: fetch first */
	size_t		 discovery_len;
	time_t		 discovery_at;
	char		*jwks;		/* JSON text; NULL: fetch first */
	size_t		 jwks_len;
	time_t		 jwks_at;	/* last fetch attempt */
	char		*jwks_uri;	/* where jwks came from */
} cache = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, NULL, 0, 0, NULL };

int
login_init(void)
{
	return oidc_http_init();
}

void
login_cleanup(void)
{
	pthread_mutex_lock(&cache.mu);
	free(cache.discovery);
	free(cache.jwks);
	free(cache.jwks_uri);
	cache.discovery = cache.jwks = cache.jwks_uri = NULL;
	pthread_mutex_unlock(&cache.mu);
}

static int
provider_flags(const struct cfg *cfg)
{
	return cfg->oidc_allow_http_loopback ? OIDC_ALLOW_LOOPBACK_HTTP : 0;
}

/* Forget the discovery document after the provider failed us, so the next
 * login fetches it again. The keys stay: jwks_get drops them only when the
 * new document names another key set. */
static void
discovery_invalidate(void)
{
	pthread_mutex_lock(&cache.mu);
	free(cache.discovery);
	cache.discovery = NULL;
	pthread_mutex_unlock(&cache.mu);
}

/*
 * The provider's discovery document, from the cache or fetched. Returns a
 * new object (oidc_discovery_free) or NULL with err.
 */
static struct oidc_discovery *
discovery_get(const struct cfg *cfg, char *err, size_t errsz)
{
	struct oidc_discovery	*d = NULL;
	char			 url[1100], *body = NULL;
	size_t			 len, ilen = strlen(cfg->oidc_issuer);
	time_t			 now = time(NULL);
	int			 status;

	pthread_mutex_lock(&cache.mu);
	if (cache.discovery != NULL && now - cache.discovery_at < DISCOVERY_TTL &&
	    now >= cache.discovery_at) {
		oidc_discovery_parse(cache.discovery, cache.discovery_len,
		    cfg->oidc_issuer, provider_flags(cfg), &d, err, errsz);
		goto out;
	}
	if (ilen > 0 && cfg->oidc_issuer[ilen - 1] == '/')
		ilen--;
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
	    (int)ilen, cfg->oidc_issuer);
	status = oidc_http_get(url, provider_flags(cfg), OIDC_MAX_DISCOVERY,
	    PROVIDER_TIMEOUT, &body, &len, err, errsz);
	if (status != 200) {
		if (status > 0)
			snprintf(err, errsz, "discovery answered %d", status);
		goto out;
	}
	if (oidc_discovery_parse(body, len, cfg->oidc_issuer,
	    provider_flags(cfg), &d, err, errsz) != 0)
		goto out;
	free(cache.discovery);
	cache.discovery = body;
	cache.discovery_len = len;
	cache.discovery_at = now;
	body = NULL;
out:
	pthread_mutex_unlock(&cache.mu);
	free(body);
	return d;
}

/*
 * The provider's keys, parsed from the cache; fetched when there are none
 * or, with refetch (an unknown kid), when oidc_jwks_may_refetch allows:
 * forged tokens with made-up kids cost at most one fetch a minute.
 */
static struct oidc_jwks *
jwks_get(const struct oidc_discovery *d, int flags, int refetch, char *err,
    size_t errsz)
{
	struct oidc_jwks	*k = NULL;
	char			*body = NULL;
	size_t			 len;
	time_t			 now = time(NULL);
	int			 status;

	pthread_mutex_lock(&cache.mu);
	if (cache.jwks_uri == NULL || strcmp(cache.jwks_uri, d->jwks_uri) != 0) {
		/* Another key set: the old keys and the fetch limit are its. */
		free(cache.jwks);
		free(cache.jwks_uri);
		cache.jwks = NULL;
		cache.jwks_at = 0;
		cache.jwks_uri = strdup(d->jwks_uri);
	}
	if ((cache.jwks == NULL || refetch) &&
	    oidc_jwks_may_refetch(cache.jwks_at, now)) {
		cache.jwks_at = now;
		status = oidc_http_get(d->jwks_uri, flags, OIDC_MAX_JWKS,
		    PROVIDER_TIMEOUT, &body, &len, err, errsz);
		if (status == 200 && (k = oidc_jwks_parse(body, len, err,
		    errsz)) != NULL) {
			free(cache.jwks);
			cache.jwks = body;
			cache.jwks_len = len;
			body = NULL;
			goto out;
		}
		if (status > 0 && status != 200)
			snprintf(err, errsz, "the JWKS answered %d", status);
	}
	if (cache.jwks != NULL)
		k = oidc_jwks_parse(cache.jwks, cache.jwks_len, err, errsz);
	else if (err[0] == '\0')
		snprintf(err, errsz, "no keys yet");
out:
	pthread_mutex_unlock(&cache.mu);
	free(body);
	return k;
}

/* 503 problem when [oidc] is absent; 1 when login is configured. */
static int
login_configured(struct req *r)
{
	if (r->cfg->oidc_issuer != NULL)
		return 1;
	reply_problem(r, 503, NULL, "login is not configured");
	return 0;
}

/* ---- Sessions ----------------------------------------------------------- */

int
session_load(struct req *r, struct session *s)
{
	const char	*tok, *params[1];
	PGconn		*c;
	PGresult	*res, *err = NULL;
	size_t		 len;
	int		 rc = 0;

	memset(s, 0, sizeof(*s));
	tok = http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    SESSION_COOKIE, &len);
	if (tok == NULL || len < 16 || len > HTTP_TOKEN_MAX)
		return 0;
	util_sha256_bytea(tok, len, s->hash);
	params[0] = s->hash;
	if ((c = req_db(r)) == NULL) {
		html_db_error(r, NULL);
		return -1;
	}
	if ((res = db_exec(c, "SELECT id, username, role, aal, csrf_token "
	    "FROM spiderpig.session_get($1::bytea)", 1, params, &err)) == NULL) {
		html_db_error(r, err);
		PQclear(err);
		return -1;
	}
	if (PQntuples(res) == 1) {
		s->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(s->user, sizeof(s->user), "%s", PQgetvalue(res, 0, 1));
		snprintf(s->role, sizeof(s->role), "%s", PQgetvalue(res, 0, 2));
		s->aal = atoi(PQgetvalue(res, 0, 3));
		snprintf(s->csrf, sizeof(s->csrf), "%s", PQgetvalue(res, 0, 4));
		rc = 1;
	}
	PQclear(res);
	return rc;
}

int
session_csrf_ok(const struct session *s, const char *csrf)
{
	return csrf != NULL && s->csrf[0] != '\0' &&
	    oidc_secret_equal(s->csrf, csrf);
}

/* The csrf field of the form body, decoded into buf, or NULL. */
static const char *
form_csrf(struct req *r, char *buf, size_t bufsz)
{
	struct http_param	 p[HTTP_FORM_PARAMS];
	const char		*why;
	int			 n, k;

	n = http_form_parse(r->body, r->bodylen, p, HTTP_FORM_PARAMS, buf,
	    bufsz, &why);
	for (k = 0; k < n; k++)
		if (strcmp(p[k].key, "csrf") == 0)
			return p[k].val;
	return NULL;
}

int
form_read(struct req *r, struct session *s, const struct field *fields,
    size_t nfields, struct value *vals, char *buf, size_t bufsz, int aal)
{
	struct verr	ve;
	int		rc;

	if ((rc = session_load(r, s)) < 0)
		return -1;
	if (rc == 0 || s->aal < aal || (aal == 2 && (r->user == NULL ||
	    strcmp(r->user, s->user) != 0))) {
		html_message(r, 403, NULL, "Forbidden", "This form needs the "
		    "session it was shown in; sign in again.");
		return -1;
	}
	if (validate_form(r->body, r->bodylen, fields, nfields, vals, buf,
	    bufsz, &ve) != 0) {
		/* The csrf check comes first: a forged form learns nothing. */
		if (session_csrf_ok(s, form_csrf(r, buf, bufsz)))
			html_message(r, 400, NULL, "Invalid input",
			    ve.n > 0 ? ve.e[0].detail : "invalid form");
		else
			html_message(r, 403, NULL, "Forbidden", "The form's "
			    "csrf token is missing or wrong.");
		return -1;
	}
	if (!session_csrf_ok(s, vals[0].s)) {
		html_message(r, 403, NULL, "Forbidden", "The form's csrf token "
		    "is missing or wrong.");
		return -1;
	}
	return 0;
}

PGresult *
req_exec_page(struct req *r, const char *sql, int nparams,
    const char *const *params)
{
	PGconn		*c;
	PGresult	*res, *err = NULL;

	if ((c = req_db(r)) == NULL) {
		html_db_error(r, NULL);
		return NULL;
	}
	if ((res = db_exec(c, sql, nparams, params, &err)) == NULL) {
		html_db_error(r, err);
		PQclear(err);
	}
	return res;
}

/* ---- GET /login ----------------------------------------------------------- */

static const struct field start_fields[] = {
	{ "return_to", FT_STRING, 0, 1, 400, 0, check_return_to, NULL },
};

/*
 * Start a login: a fresh state, nonce and PKCE verifier go to the database
 * with the hash of a random binding value that only this browser gets (the
 * login cookie); then 302 to the provider.
 */
int
login_start(struct req *r)
{
	struct value		 v[NELEM(start_fields)];
	struct verr		 ve;
	struct oidc_discovery	*d = NULL;
	struct oidc_pkce	 pkce;
	char			 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char			 state[OIDC_TOKEN_LEN], nonce[OIDC_TOKEN_LEN];
	char			 binding[64], bhash[68], err[256], hdr[256];
	char			*url = NULL;
	const char		*params[5];
	PGresult		*res = NULL;

	if (!login_configured(r))
		return 0;
	if (validate_query(r->query, start_fields, NELEM(start_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Invalid login link",
		    ve.n > 0 ? ve.e[0].detail : "invalid");
		return 0;
	}
	err[0] = '\0';
	if ((d = discovery_get(r->cfg, err, sizeof(err))) == NULL) {
		log_warn("login: provider discovery: %s", err);
		html_message(r, 502, NULL, "Login unavailable", "The identity "
		    "provider cannot be reached; try again shortly.");
		goto out;
	}
	if (oidc_random_state(state) != 0 || oidc_random_state(nonce) != 0 ||
	    oidc_pkce_new(&pkce) != 0 ||
	    util_random_token(32, binding, sizeof(binding)) != 0) {
		html_message(r, 500, NULL, "Internal error", "no randomness");
		goto out;
	}
	util_sha256_bytea(binding, strlen(binding), bhash);
	params[0] = bhash;
	params[1] = state;
	params[2] = nonce;
	params[3] = pkce.verifier;
	params[4] = v[0].present ? v[0].s : "/";
	if ((res = req_exec_page(r, "SELECT spiderpig.login_begin($1::bytea, "
	    "$2, $3, $4, $5)", 5, params)) == NULL)
		goto out;
	if ((url = oidc_authorization_url(d, r->cfg->oidc_client_id,
	    r->cfg->oidc_redirect_uri, LOGIN_SCOPE, state, nonce,
	    pkce.challenge)) == NULL) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "Set-Cookie: " LOGIN_COOKIE "=%s; Path=/; "
	    "Secure; HttpOnly; SameSite=Lax; Max-Age=600\r\n", binding);
	reply_redirect(r, 302, url, hdr);
out:
	explicit_bzero(&pkce, sizeof(pkce));
	PQclear(res);
	free(url);
	oidc_discovery_free(d);
	return 0;
}

/* ---- GET /login/callback -------------------------------------------------- */

static const struct field callback_fields[] = {
	{ "code",		FT_STRING, 0, 1, 1024, 0, NULL, NULL },
	{ "state",		FT_STRING, 0, 1, 128, 0, NULL, NULL },
	{ "iss",		FT_STRING, 0, 1, 1024, 0, NULL, NULL },
	{ "error",		FT_STRING, 0, 1, 128, 0, NULL, NULL },
	{ "error_description",	FT_STRING, 0, 0, 1024, 0, NULL, NULL },
	{ "error_uri",		FT_STRING, 0, 0, 1024, 0, NULL, NULL },
	{ "session_state",	FT_STRING, 0, 0, 1024, 0, NULL, NULL },
};
enum { CB_CODE, CB_STATE, CB_ISS, CB_ERROR };

/* What login_take gave back for the state. */
struct attempt {
	char	nonce[136];
	char	verifier[136];
	char	return_to[420];
};

/* Consume the login attempt of state, only for the browser that began it
 * (its login cookie). Answers and returns -1 when refused; the login cookie
 * stays, so a forged callback cannot end the login the browser has in
 * progress. */
static int
attempt_take(struct req *r, const char *state, struct attempt *a)
{
	const char	*cookie, *params[2];
	char		 bhash[68];
	size_t		 len;
	PGresult	*res;

	cookie = http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    LOGIN_COOKIE, &len);
	if (cookie == NULL || len < 16 || len > 128) {
		html_message(r, 400, NULL, "Login failed",
		    "This browser did not start this login (no login cookie); "
		    "start the login again.");
		return -1;
	}
	util_sha256_bytea(cookie, len, bhash);
	params[0] = bhash;
	params[1] = state;
	if ((res = req_exec_page(r, "SELECT nonce, code_verifier, return_to "
	    "FROM spiderpig.login_take($1::bytea, $2)", 2, params)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		html_message(r, 400, NULL, "Login failed",
		    "Unknown login state; start the login again.");
		return -1;
	}
	snprintf(a->nonce, sizeof(a->nonce), "%s", PQgetvalue(res, 0, 0));
	snprintf(a->verifier, sizeof(a->verifier), "%s", PQgetvalue(res, 0, 1));
	snprintf(a->return_to, sizeof(a->return_to), "%s",
	    PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/*
 * Exchange the code at the token endpoint (client_secret_basic, with the
 * PKCE verifier) for an ID token. Returns it (free()) or NULL with err and
 * *status: the HTTP status to answer with.
 */
static char *
code_exchange(struct req *r, const struct oidc_discovery *d,
    const char *code, const char *verifier, int *status, char *err,
    size_t errsz)
{
	const char	*fields[] = {
		"grant_type", "authorization_code",
		"code", code,
		"redirect_uri", r->cfg->oidc_redirect_uri,
		"code_verifier", verifier,
		NULL
	};
	char		*body = NULL, *id_token = NULL;
	size_t		 len = 0;
	int		 hs;

	hs = oidc_http_post_form(d->token_endpoint, provider_flags(r->cfg),
	    r->cfg->oidc_client_id, r->cfg->oidc_client_secret, fields,
	    TOKEN_RESPONSE_MAX, PROVIDER_TIMEOUT, &body, &len, err, errsz);
	if (hs < 0) {
		discovery_invalidate();
		*status = 502;
		goto out;
	}
	if (oidc_token_response_parse(body, len, &id_token, err, errsz) != 0) {
		/* 400 invalid_grant: a used, expired or foreign code. */
		*status = hs == 400 ? 400 : 502;
		if (hs >= 500)
			discovery_invalidate();
	}
out:
	free(body);
	return id_token;
}

/* Percent-encode a checked return_to path for a query string. */
static void
query_encode(const char *s, char *out, size_t outsz)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			o = 0;

	for (; *s != '\0' && o + 4 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '-' ||
		    c == '_' || c == '.' || c == '~')
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/*
 * The provider sent the browser back: check state (single use, this
 * browser), iss, exchange the code, verify the ID token, map groups to a
 * role and open an AAL1 session; 303 to /totp for the second factor.
 */
int
login_callback(struct req *r)
{
	struct value		 v[NELEM(callback_fields)];
	struct verr		 ve;
	struct attempt		 a;
	struct oidc_discovery	*d = NULL;
	struct oidc_jwks	*k = NULL;
	struct oidc_claims	 cl;
	struct oidc_expect	 ex;
	struct oidc_strlist	 deployers, admins;
	enum oidc_result	 vr;
	char			 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char			 err[256], hdr[512], loc[1400], *id_token = NULL;
	const char		*role, *params[2];
	PGresult		*res = NULL;
	int			 status = 502;

	memset(&cl, 0, sizeof(cl));
	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	if (!login_configured(r))
		return 0;
	if (validate_query(r->query, callback_fields, NELEM(callback_fields),
	    v, buf, sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Login failed",
		    ve.n > 0 ? ve.e[0].detail : "invalid");
		return 0;
	}
	if (!v[CB_STATE].present) {
		html_message(r, 400, NULL, "Login failed",
		    "The answer has no state; start the login again.");
		return 0;
	}
	if (attempt_take(r, v[CB_STATE].s, &a) != 0)
		goto out;
	if (v[CB_ERROR].present) {
		snprintf(err, sizeof(err), "The identity provider refused "
		    "the login: %s", v[CB_ERROR].s);
		html_message(r, 403, CLEAR_LOGIN_COOKIE, "Login failed", err);
		goto out;
	}
	if ((d = discovery_get(r->cfg, err, sizeof(err))) == NULL) {
		log_warn("login: provider discovery: %s", err);
		html_message(r, 502, CLEAR_LOGIN_COOKIE, "Login unavailable",
		    "The identity provider cannot be reached.");
		goto out;
	}
	if (!oidc_callback_iss_ok(d, v[CB_ISS].present ? v[CB_ISS].s : NULL)) {
		html_message(r, 400, CLEAR_LOGIN_COOKIE, "Login failed", "The "
		    "answer does not come from our identity provider (iss).");
		goto out;
	}
	if (!v[CB_CODE].present) {
		html_message(r, 400, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The answer has no code.");
		goto out;
	}
	if ((id_token = code_exchange(r, d, v[CB_CODE].s, a.verifier,
	    &status, err, sizeof(err))) == NULL) {
		log_warn("login: token endpoint: %s", err);
		html_message(r, status, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The identity provider did not accept the code; start "
		    "the login again.");
		goto out;
	}

	memset(&ex, 0, sizeof(ex));
	ex.issuer = d->issuer;
	ex.client_id = r->cfg->oidc_client_id;
	ex.nonce = a.nonce;
	ex.skew = LOGIN_SKEW;
	ex.username_claim = r->cfg->oidc_username_claim;
	ex.groups_claim = r->cfg->oidc_groups_claim;
	err[0] = '\0';
	if ((k = jwks_get(d, provider_flags(r->cfg), 0, err,
	    sizeof(err))) == NULL) {
		log_warn("login: JWKS: %s", err);
		discovery_invalidate();
		html_message(r, 502, CLEAR_LOGIN_COOKIE, "Login unavailable",
		    "The identity provider's keys cannot be fetched.");
		goto out;
	}
	vr = oidc_id_token_verify(id_token, k, &ex, time(NULL), &cl, err,
	    sizeof(err));
	if (vr == OIDC_UNKNOWN_KID) {
		/* Keys rotate: one refetch, rate-limited in jwks_get. */
		oidc_jwks_free(k);
		err[0] = '\0';
		if ((k = jwks_get(d, provider_flags(r->cfg), 1, err,
		    sizeof(err))) != NULL)
			vr = oidc_id_token_verify(id_token, k, &ex, time(NULL),
			    &cl, err, sizeof(err));
	}
	if (vr != OIDC_OK) {
		log_warn("login: ID token refused: %s: %s", oidc_strerror(vr),
		    err);
		html_message(r, 403, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The identity provider's ID token was refused.");
		goto out;
	}

	/* The lists stay owned by the config: oidc_strlist only reads. */
	deployers.v = (char **)r->cfg->oidc_deployer_groups;
	deployers.n = r->cfg->oidc_ndeployer_groups;
	admins.v = (char **)r->cfg->oidc_admin_groups;
	admins.n = r->cfg->oidc_nadmin_groups;
	if ((role = oidc_role_for_groups(&cl.groups, &deployers,
	    &admins)) == NULL) {
		log_info("login: %s is in no deployer or admin group",
		    cl.username);
		html_message(r, 403, CLEAR_LOGIN_COOKIE, "Not authorized",
		    "You signed in, but you are not in a group allowed to use "
		    "spiderpig. Ask an administrator for access.");
		goto out;
	}
	params[0] = cl.username;
	params[1] = role;
	if ((res = req_exec_page(r, "SELECT spiderpig.login_complete($1, $2)",
	    2, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	    !http_header_safe(PQgetvalue(res, 0, 0))) {
		html_message(r, 500, CLEAR_LOGIN_COOKIE, "Internal error",
		    "no session");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "Set-Cookie: " SESSION_COOKIE "=%s; Path=/; "
	    "Secure; HttpOnly; SameSite=Lax\r\n" CLEAR_LOGIN_COOKIE,
	    PQgetvalue(res, 0, 0));
	memcpy(loc, "/totp?return_to=", 16);
	query_encode(a.return_to, loc + 16, sizeof(loc) - 16);
	reply_redirect(r, 303, loc, hdr);
out:
	explicit_bzero(&a, sizeof(a));
	PQclear(res);
	free(id_token);
	oidc_claims_free(&cl);
	oidc_jwks_free(k);
	oidc_discovery_free(d);
	return 0;
}

/* ---- POST /logout --------------------------------------------------------- */

static const struct field logout_fields[] = {
	{ "csrf", FT_STRING, 1, 1, 128, 0, NULL, NULL },
};

/* End the browser's session and clear its cookie. */
int
logout_post(struct req *r)
{
	struct value	 v[NELEM(logout_fields)];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	const char	*params[1];
	PGresult	*res;

	if (form_read(r, &s, logout_fields, NELEM(logout_fields), v, buf,
	    sizeof(buf), 2) != 0)
		return 0;
	params[0] = s.hash;
	if ((res = req_exec_page(r, "SELECT spiderpig.session_end($1::bytea)",
	    1, params)) == NULL)
		return 0;
	PQclear(res);
	html_message(r, 200, "Set-Cookie: " SESSION_COOKIE "=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0\r\n", "Logged out",
	    "You are logged out.");
	return 0;
}
