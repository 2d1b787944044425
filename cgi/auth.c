/* auth.c: the /_auth answer to nginx's auth_request. The token is looked
 * up on every request, so a ban or revocation applies to the next one. */
#include <stdio.h>
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
credential(struct req *r, size_t *len, const char **sql)
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
		*sql = "SELECT username, role FROM spiderpig.auth_token($1)";
		return tok;
	}
	*sql = "SELECT username, role FROM spiderpig.auth_session($1)";
	return http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    SESSION_COOKIE, len);
}

/*
 * 204 with X-Spiderpig-User/-Role for a live token or session, 401 for
 * none or a bad one, 503 when the database cannot say.
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
	const char	*user, *role;

	tok = credential(r, &len, &sql);
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
	if (!http_header_safe(user) || !http_header_safe(role) ||
	    strlen(user) > 128 || strlen(role) > 32) {
		reply_problem(r, 500, NULL, "internal error");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-Spiderpig-User: %s\r\n"
	    "X-Spiderpig-Role: %s\r\n", user, role);
	reply_empty(r, 204, hdr);
out:
	PQclear(res);
	PQclear(err);
	return 0;
}
