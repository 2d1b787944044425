/* session.c: browser sessions: the session cookie, the session behind it,
 * page forms checked against it (csrf), page statements, and logout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

int
session_cookie_header(char *buf, size_t bufsz, const char *token, int aal)
{
	int	n;

	if (token == NULL || !http_header_safe(token))
		return -1;
	n = snprintf(buf, bufsz, "Set-Cookie: " SESSION_COOKIE "=%s; Path=/; "
	    "Secure; HttpOnly; SameSite=%s\r\n", token,
	    aal >= 2 ? "Strict" : "Lax");
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

int
session_load(struct req *r, struct session *s)
{
	const char	*tok, *params[1];
	PGresult	*res;
	size_t		 len;
	int		 rc = 0;

	memset(s, 0, sizeof(*s));
	tok = http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    SESSION_COOKIE, &len);
	if (tok == NULL || len < 16 || len > HTTP_TOKEN_MAX)
		return 0;
	util_sha256_bytea(tok, len, s->hash);
	params[0] = s->hash;
	if ((res = req_exec_page(r, "SELECT id, username, role, aal, "
	    "csrf_token FROM spiderpig.session_get($1::bytea)", 1,
	    params)) == NULL)
		return -1;
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
	    util_secret_equal(s->csrf, csrf);
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
	} else
		r->queried = 1;
	return res;
}

/* ---- POST /logout --------------------------------------------------------- */

static const struct field logout_fields[] = {
	{ .name = "csrf", .type = FT_STRING, .required = 1, .min = 1,
	  .max = 128 },
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
	html_message(r, 200, SESSION_COOKIE_CLEAR, "Logged out",
	    "You are logged out.");
	return 0;
}
