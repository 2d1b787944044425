/* login.c: browser login with OpenID Connect (authorization code flow,
 * PKCE S256, state bound to the browser, nonce): GET /login and the
 * provider's answer, GET /login/callback. The flow's pieces live in
 * lib/oidc_login.c; who the user is comes from the issuer and sub of the
 * verified ID token, bound to a name in SQL (login_complete). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"
#include "httpc.h"
#include "oidc_login.h"
#include "util.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define LOGIN_SCOPE		"openid"
#define LOGIN_SKEW		60	/* seconds of clock skew for ID tokens */

#define CLEAR_LOGIN_COOKIE \
	"Set-Cookie: " LOGIN_COOKIE "=; Path=/; Secure; HttpOnly; " \
	"SameSite=Lax; Max-Age=0\r\n"

/*
 * The provider's cache (discovery document and keys), shared by the
 * serving threads: the one piece of global state in cgi/, because fetching
 * both on every login would double the provider round trips. Made at the
 * first login (the config names the provider), freed by login_cleanup.
 */
static pthread_mutex_t		 provider_mu = PTHREAD_MUTEX_INITIALIZER;
static struct oidc_provider	*provider;

int
login_init(void)
{
	return httpc_init();
}

void
login_cleanup(void)
{
	pthread_mutex_lock(&provider_mu);
	oidc_provider_free(provider);
	provider = NULL;
	pthread_mutex_unlock(&provider_mu);
}

/* The provider cache for r's config; NULL when out of memory. */
static struct oidc_provider *
login_provider(struct req *r)
{
	struct oidc_provider	*p;

	pthread_mutex_lock(&provider_mu);
	if (provider == NULL)
		provider = oidc_provider_new(r->cfg->oidc_issuer,
		    r->cfg->oidc_allow_http_loopback ?
		    OIDC_ALLOW_LOOPBACK_HTTP : 0);
	p = provider;
	pthread_mutex_unlock(&provider_mu);
	return p;
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

/*
 * The discovery document, or NULL after answering 502 (headers: extra
 * header lines for that page, e.g. clearing the login cookie).
 */
static struct oidc_discovery *
login_discovery(struct req *r, const char *headers)
{
	struct oidc_provider	*p;
	struct oidc_discovery	*d = NULL;
	char			 err[256] = "";

	if ((p = login_provider(r)) == NULL)
		snprintf(err, sizeof(err), "out of memory");
	else
		d = oidc_provider_discovery(p, time(NULL), err, sizeof(err));
	if (d == NULL) {
		log_warn("login: provider discovery: %s", err);
		html_message(r, 502, headers, "Login unavailable", "The "
		    "identity provider cannot be reached; try again shortly.");
	}
	return d;
}

/* ---- GET /login ----------------------------------------------------------- */

static const struct field start_fields[] = {
	{ .name = "return_to", .type = FT_STRING, .min = 1, .max = 400,
	  .check = check_return_to },
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
	char			 binding[64], bhash[68], hdr[256];
	char			*url = NULL;
	const char		*params[5];
	PGresult		*res = NULL;

	memset(&pkce, 0, sizeof(pkce));
	if (!login_configured(r))
		return 0;
	if (validate_query(r->query, start_fields, NELEM(start_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Invalid login link",
		    ve.n > 0 ? ve.e[0].detail : "invalid");
		return 0;
	}
	if ((d = login_discovery(r, NULL)) == NULL)
		goto out;
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
	{ .name = "code", .type = FT_STRING, .min = 1, .max = 1024 },
	{ .name = "state", .type = FT_STRING, .min = 1, .max = 128 },
	{ .name = "iss", .type = FT_STRING, .min = 1, .max = 1024 },
	{ .name = "error", .type = FT_STRING, .min = 1, .max = 128 },
	{ .name = "error_description", .type = FT_STRING, .max = 1024 },
	{ .name = "error_uri", .type = FT_STRING, .max = 1024 },
	{ .name = "session_state", .type = FT_STRING, .max = 1024 },
};
enum { CB_CODE, CB_STATE, CB_ISS, CB_ERROR };

/* One callback being served: what each step leaves for the next. */
struct callback {
	struct value		 v[NELEM(callback_fields)];
	char			 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	/* From login_take: what this login began with. */
	char			 nonce[136];
	char			 verifier[136];
	char			 return_to[420];
	struct oidc_discovery	*d;
	struct oidc_claims	 claims;	/* of the verified ID token */
};

static void
callback_free(struct callback *cb)
{
	oidc_claims_free(&cb->claims);
	oidc_discovery_free(cb->d);
	explicit_bzero(cb, sizeof(*cb));
}

/* Validate the query; it must carry a state. */
static int
callback_params(struct req *r, struct callback *cb)
{
	struct verr	ve;

	if (validate_query(r->query, callback_fields, NELEM(callback_fields),
	    cb->v, cb->buf, sizeof(cb->buf), &ve) != 0) {
		html_message(r, 400, NULL, "Login failed",
		    ve.n > 0 ? ve.e[0].detail : "invalid");
		return -1;
	}
	if (!cb->v[CB_STATE].present) {
		html_message(r, 400, NULL, "Login failed",
		    "The answer has no state; start the login again.");
		return -1;
	}
	return 0;
}

/* Consume the login attempt of the state, only for the browser that began
 * it (its login cookie). Answers and returns -1 when refused; the login
 * cookie stays, so a forged callback cannot end the login the browser has
 * in progress. */
static int
callback_attempt(struct req *r, struct callback *cb)
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
	params[1] = cb->v[CB_STATE].s;
	if ((res = req_exec_page(r, "SELECT nonce, code_verifier, return_to "
	    "FROM spiderpig.login_take($1::bytea, $2)", 2, params)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		html_message(r, 400, NULL, "Login failed",
		    "Unknown login state; start the login again.");
		return -1;
	}
	snprintf(cb->nonce, sizeof(cb->nonce), "%s", PQgetvalue(res, 0, 0));
	snprintf(cb->verifier, sizeof(cb->verifier), "%s",
	    PQgetvalue(res, 0, 1));
	snprintf(cb->return_to, sizeof(cb->return_to), "%s",
	    PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/* The answer itself: no error from the provider, our provider's iss (RFC
 * 9207), a code. Leaves the discovery document in cb->d. */
static int
callback_answer(struct req *r, struct callback *cb)
{
	char	msg[256];

	if (cb->v[CB_ERROR].present) {
		snprintf(msg, sizeof(msg), "The identity provider refused "
		    "the login: %s", cb->v[CB_ERROR].s);
		html_message(r, 403, CLEAR_LOGIN_COOKIE, "Login failed", msg);
		return -1;
	}
	if ((cb->d = login_discovery(r, CLEAR_LOGIN_COOKIE)) == NULL)
		return -1;
	if (!oidc_callback_iss_ok(cb->d, cb->v[CB_ISS].present ?
	    cb->v[CB_ISS].s : NULL)) {
		html_message(r, 400, CLEAR_LOGIN_COOKIE, "Login failed", "The "
		    "answer does not come from our identity provider (iss).");
		return -1;
	}
	if (!cb->v[CB_CODE].present) {
		html_message(r, 400, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The answer has no code.");
		return -1;
	}
	return 0;
}

/* Exchange the code for an ID token and verify it into cb->claims. */
static int
callback_id_token(struct req *r, struct callback *cb)
{
	struct oidc_provider	*p = login_provider(r);
	struct oidc_expect	 ex;
	enum oidc_result	 vr;
	char			 err[256] = "", *id_token;
	int			 status = 502, keys_missing;

	if (p == NULL || (id_token = oidc_code_exchange(p, cb->d,
	    r->cfg->oidc_client_id, r->cfg->oidc_client_secret,
	    r->cfg->oidc_redirect_uri, cb->v[CB_CODE].s, cb->verifier,
	    &status, err, sizeof(err))) == NULL) {
		log_warn("login: token endpoint: %s", err);
		html_message(r, status, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The identity provider did not accept the code; start "
		    "the login again.");
		return -1;
	}
	memset(&ex, 0, sizeof(ex));
	ex.issuer = cb->d->issuer;
	ex.client_id = r->cfg->oidc_client_id;
	ex.nonce = cb->nonce;
	ex.skew = LOGIN_SKEW;
	ex.username_claim = r->cfg->oidc_username_claim;
	ex.groups_claim = r->cfg->oidc_groups_claim;
	vr = oidc_provider_verify(p, cb->d, id_token, &ex, time(NULL),
	    &cb->claims, &keys_missing, err, sizeof(err));
	free(id_token);
	if (keys_missing) {
		log_warn("login: JWKS: %s", err);
		oidc_provider_forget_discovery(p);
		html_message(r, 502, CLEAR_LOGIN_COOKIE, "Login unavailable",
		    "The identity provider's keys cannot be fetched.");
		return -1;
	}
	if (vr != OIDC_OK) {
		log_warn("login: ID token refused: %s: %s", oidc_strerror(vr),
		    err);
		html_message(r, 403, CLEAR_LOGIN_COOKIE, "Login failed",
		    "The identity provider's ID token was refused.");
		return -1;
	}
	return 0;
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
 * Who signed in: the groups give the role (none: NULL), and login_complete
 * binds or finds the user by issuer + sub, records the sign-in and opens an
 * AAL1 session, or refuses (a taken or reserved name, no group) with a
 * sentence for the page. 303 to /totp for the second factor.
 */
static void
callback_session(struct req *r, struct callback *cb)
{
	struct oidc_strlist	 deployers, admins;
	const char		*role, *params[4];
	char			 hdr[512], loc[1400];
	PGresult		*res;

	/* The lists stay owned by the config: oidc_strlist only reads. */
	deployers.v = (char **)r->cfg->oidc_deployer_groups;
	deployers.n = r->cfg->oidc_ndeployer_groups;
	admins.v = (char **)r->cfg->oidc_admin_groups;
	admins.n = r->cfg->oidc_nadmin_groups;
	role = oidc_role_for_groups(&cb->claims.groups, &deployers, &admins);
	params[0] = cb->d->issuer;
	params[1] = cb->claims.sub;
	params[2] = cb->claims.username;
	params[3] = role;
	if ((res = req_exec_page(r, "SELECT token, username, refusal FROM "
	    "spiderpig.login_complete($1, $2, $3, $4)", 4, params)) == NULL)
		return;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 2)) {
		/* The provider's strings stay out of the log: the
		 * login_refused event row holds them. */
		log_info("login: refused (%s)", role == NULL ? "in no group" :
		    "name taken, reserved or not linked");
		html_message(r, 403, CLEAR_LOGIN_COOKIE, role == NULL ?
		    "Not authorized" : "Login refused", PQgetvalue(res, 0, 2));
		goto out;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	    session_cookie_header(hdr, sizeof(hdr) - sizeof(CLEAR_LOGIN_COOKIE),
	    PQgetvalue(res, 0, 0), 1) != 0) {
		html_message(r, 500, CLEAR_LOGIN_COOKIE, "Internal error",
		    "no session");
		goto out;
	}
	strcat(hdr, CLEAR_LOGIN_COOKIE);
	memcpy(loc, "/totp?return_to=", 16);
	query_encode(cb->return_to, loc + 16, sizeof(loc) - 16);
	reply_redirect(r, 303, loc, hdr);
out:
	PQclear(res);
}

/*
 * The provider sent the browser back: check the query and the state
 * (single use, this browser), the answer (iss, code), exchange the code,
 * verify the ID token, then open a session; each step answers on failure.
 */
int
login_callback(struct req *r)
{
	struct callback	*cb;

	if (!login_configured(r))
		return 0;
	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		return 0;
	}
	if (callback_params(r, cb) == 0 && callback_attempt(r, cb) == 0 &&
	    callback_answer(r, cb) == 0 && callback_id_token(r, cb) == 0)
		callback_session(r, cb);
	callback_free(cb);
	free(cb);
	return 0;
}
