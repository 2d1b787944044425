/* auth.c: who a request is, from its own Bearer token or session cookie:
 * for the app's routes (auth_identify, auth_confirm) and as the /_auth
 * answer to nginx's auth_request (the stream daemon's handshake). A ban,
 * logout or revocation applies to the next request either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "util.h"

/* Tokens are base64url with an optional prefix: refuse anything else
 * before it reaches the database. */
static int
token_ok(const char *t, size_t len)
{
	size_t	i;

	if (len < 16 || len > HTTP_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)t[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/*
 * The credential of the request: a Bearer token (wins, and a bad one does
 * not fall back) or the session cookie, with *len its length and *sql the
 * statement that checks it. NULL when there is none.
 */
static const char *
credential(struct req *r, size_t *len, const char **sql, char *kind)
{
	const char	*authz, *tok;

	*len = 0;
	authz = FCGX_GetParam("HTTP_AUTHORIZATION", r->fcgx->envp);
	if (authz != NULL && authz[0] != '\0') {
		if ((tok = http_bearer_token(authz)) != NULL)
			*len = strlen(tok);
		while (tok != NULL && *len > 0 &&
		    (tok[*len - 1] == ' ' || tok[*len - 1] == '\t'))
			(*len)--;
		*sql = "SELECT username, role, token FROM "
		    "spiderpig.auth_gate_token($1)";
		*kind = 't';
		return tok;
	}
	*sql = "SELECT username, role, NULL::bigint AS token FROM "
	    "spiderpig.auth_session($1)";
	*kind = 's';
	return http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    SESSION_COOKIE, len);
}

/*
 * 204 with X-Spiderpig-User/-Role (and -Token, the id of an API token, so
 * that the stream daemon can close what a revoked token opened) for a live
 * token or session, 401 for none or a bad one, 503 when the database
 * cannot say.
 */
int
auth_check(struct req *r)
{
	const char	*tok, *sql;
	const char	*params[1];
	PGconn		*c;
	PGresult	*res = NULL, *err = NULL;
	char		 hash[68], hdr[400];
	size_t		 len;
	const char	*user, *role, *token;
	char		 kind;

	tok = credential(r, &len, &sql, &kind);
	if (tok == NULL || !token_ok(tok, len)) {
		reply_problem(r, 401, NULL, "a valid API token or session is "
		    "required");
		return 0;
	}
	util_sha256_bytea(tok, len, hash);
	params[0] = hash;
	if ((c = req_db(r)) == NULL) {
		reply_db_error(r, NULL);
		return 0;
	}
	if ((res = db_exec(c, sql, 1, params, &err)) == NULL) {
		reply_db_error(r, err);
		goto out;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		reply_problem(r, 401, NULL, "the token or session is unknown, "
		    "expired or revoked");
		goto out;
	}
	user = PQgetvalue(res, 0, 0);
	role = PQgetvalue(res, 0, 1);
	token = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	if (!http_header_safe(user) || !http_header_safe(role) ||
	    strlen(user) > 128 || strlen(role) > 32 ||
	    (token != NULL && strspn(token, "0123456789") != strlen(token)) ||
	    (token != NULL && strlen(token) > 20)) {
		reply_problem(r, 500, NULL, "internal error");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-Spiderpig-User: %s\r\n"
	    "X-Spiderpig-Role: %s\r\n%s%s%s", user, role,
	    token != NULL ? "X-Spiderpig-Token: " : "",
	    token != NULL ? token : "", token != NULL ? "\r\n" : "");
	reply_empty(r, 204, hdr);
out:
	PQclear(res);
	PQclear(err);
	return 0;
}

/* The statements that check a credential and say for how long it holds. */
static const char *
auth_ttl_sql(char kind)
{
	return kind == 't' ? "SELECT username, role, valid_for "
	    "FROM spiderpig.auth_token_ttl($1)" : "SELECT username, role, "
	    "valid_for FROM spiderpig.auth_session_ttl($1)";
}

/*
 * Ask the database about r's credential: 1 with *id and *valid_ms, 0 when
 * it is unknown, expired or revoked, -1 with *errp (NULL: no connection).
 */
static int
auth_ask_db(struct req *r, struct auth_id *id, int64_t *valid_ms,
    PGresult **errp)
{
	const char	*params[1] = { r->cred_hash };
	PGconn		*c;
	PGresult	*res;
	const char	*user, *role;
	double		 secs;
	int		 rc = 0, tries = 2;

	*errp = NULL;
	for (;;) {
		if ((c = req_db(r)) == NULL)
			return -1;
		if ((res = db_exec(c, auth_ttl_sql(r->cred_kind), 1, params,
		    errp)) != NULL)
			break;
		/* A connection that broke since it was checked: once more on
		 * a new one, as req_query does for a read. */
		if (--tries == 0 || PQstatus(c) == CONNECTION_OK)
			return -1;
		PQclear(*errp);
		*errp = NULL;
	}
	r->queried = 1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	    PQgetisnull(res, 0, 1))
		goto out;
	user = PQgetvalue(res, 0, 0);
	role = PQgetvalue(res, 0, 1);
	if (strlen(user) > AUTH_USER_MAX || strlen(role) > AUTH_ROLE_MAX)
		goto out;
	memcpy(id->user, user, strlen(user) + 1);
	memcpy(id->role, role, strlen(role) + 1);
	secs = PQgetisnull(res, 0, 2) ? 0 : strtod(PQgetvalue(res, 0, 2), NULL);
	*valid_ms = isfinite(secs) && secs > 0 ?
	    (int64_t)(secs > 1e6 ? 1e9 : secs * 1000) : 0;
	rc = 1;
out:
	PQclear(res);
	return rc;
}

/* The 401 of a request without a live credential. */
static void
auth_refuse(struct req *r)
{
	reply_problem(r, 401, NULL, "a valid API token or session is required");
}

int
auth_identify(struct req *r)
{
	const char	*tok, *sql;
	size_t		 len;
	PGresult	*err = NULL;
	int64_t		 valid_ms = 0;
	uint64_t	 gen;
	int		 rc;

	tok = credential(r, &len, &sql, &r->cred_kind);
	if (tok == NULL || !token_ok(tok, len)) {
		r->cred_kind = 0;
		auth_refuse(r);
		return -1;
	}
	util_sha256_bytea(tok, len, r->cred_hash);
	/* req_db drains what the connection already heard: a flush comes
	 * before the lookup. */
	if (req_db(r) == NULL) {
		reply_db_error(r, NULL);
		return -1;
	}
	/* Only a read may be answered before it is confirmed: a write would
	 * have happened already. */
	if (strcmp(r->method, "GET") == 0 && authcache_get(r->cache,
	    r->cred_kind, r->cred_hash, &r->who, &gen)) {
		r->from_cache = 1;
		r->cache_gen = gen;
		r->queried = 0;
		goto found;
	}
	gen = r->cache != NULL ? authcache_generation(r->cache) : 0;
	if ((rc = auth_ask_db(r, &r->who, &valid_ms, &err)) <= 0) {
		if (rc == 0)
			auth_refuse(r);
		else
			reply_db_error(r, err);
		PQclear(err);
		return -1;
	}
	authcache_put(r->cache, r->cred_kind, r->cred_hash, &r->who, valid_ms,
	    gen);
found:
	r->user = r->who.user;
	r->role = r->who.role;
	return 0;
}

int
auth_confirm(struct req *r)
{
	struct auth_id	 again;
	PGresult	*err = NULL;
	int64_t		 valid_ms;
	int		 rc;

	if (!r->from_cache)
		return 0;
	r->from_cache = 0;
	/* After a statement on this listening connection, every NOTIFY
	 * committed before the request came has been read (the server sends
	 * them before ReadyForQuery). */
	if (r->queried && *r->dbp != NULL) {
		authcache_drain(r->cache, *r->dbp);
		if (authcache_generation(r->cache) == r->cache_gen)
			return 0;
	}
	if ((rc = auth_ask_db(r, &again, &valid_ms, &err)) <= 0) {
		if (rc == 0)
			auth_refuse(r);
		else
			reply_db_error(r, err);
		PQclear(err);
		return -1;
	}
	if (strcmp(again.user, r->who.user) != 0 ||
	    strcmp(again.role, r->who.role) != 0) {
		reply_problem(r, 409, NULL, "the role of %s changed while "
		    "the request was served; try again", r->who.user);
		return -1;
	}
	return 0;
}
