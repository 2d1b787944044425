/* request.c: one request from accept to answer: identity, body, routing,
 * the role gate, the dispatch to a handler or an action, and per-request
 * cleanup. The database connection is conn.c's. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "util.h"

/* Empty parameters count as absent. */
static const char *
param(struct req *r, const char *name)
{
	const char	*v = FCGX_GetParam(name, r->fcgx->envp);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * Read exactly CONTENT_LENGTH bytes (at most HTTP_BODY_MAX) into r->body.
 * Answers and returns -1 on a bad length, a short read, or NUL bytes.
 */
static int
req_read_body(struct req *r)
{
	const char	*cl = param(r, "CONTENT_LENGTH"), *errstr;
	long long	 len;
	int		 got, n;

	if (cl == NULL)
		return 0;
	if (util_strtonum(cl, 0, 1LL << 40, &len, &errstr) != 0) {
		reply_problem(r, 400, NULL, "bad Content-Length");
		return -1;
	}
	if (len > HTTP_BODY_MAX) {
		reply_problem(r, 413, NULL, "the body is larger than %d bytes",
		    HTTP_BODY_MAX);
		return -1;
	}
	if (len == 0)
		return 0;
	if ((r->body = malloc((size_t)len + 1)) == NULL) {
		reply_problem(r, 500, NULL, "out of memory");
		return -1;
	}
	for (got = 0; got < len; got += n) {
		n = FCGX_GetStr(r->body + got, (int)len - got, r->fcgx->in);
		if (n <= 0)
			break;
	}
	if (got != len) {
		reply_problem(r, 400, NULL, "the body is shorter than "
		    "Content-Length");
		return -1;
	}
	r->body[len] = '\0';
	r->bodylen = (size_t)len;
	if (memchr(r->body, '\0', r->bodylen) != NULL) {
		reply_problem(r, 400, NULL, "the body contains a NUL byte");
		return -1;
	}
	return 0;
}

/* Fill method, path and query from the FastCGI parameters. */
static int
req_init(struct req *r)
{
	const char	*uri, *q;
	size_t		 len;

	r->method = param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	r->query = param(r, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	r->ctype = param(r, "CONTENT_TYPE");

	/* nginx's normalised $document_uri; else the raw URI sans query. */
	if ((uri = param(r, "DOCUMENT_URI")) != NULL)
		len = strlen(uri);
	else if ((uri = param(r, "REQUEST_URI")) != NULL)
		len = (q = strchr(uri, '?')) != NULL ? (size_t)(q - uri) :
		    strlen(uri);
	else if ((uri = param(r, "SCRIPT_NAME")) != NULL)
		len = strlen(uri);
	else {
		uri = "/";
		len = 1;
	}
	if (len >= sizeof(r->pathbuf)) {
		r->path = "(too long)";
		reply_problem(r, 404, NULL, "no such resource");
		return -1;
	}
	memcpy(r->pathbuf, uri, len);
	r->pathbuf[len] = '\0';
	r->path = r->pathbuf;
	return 0;
}

/* True for the auth_request subrequest. */
static int
req_is_auth(struct req *r)
{
	const char	*a = param(r, "SPIDERPIG_AUTH");

	return (a != NULL && strcmp(a, "1") == 0) ||
	    strcmp(r->path, "/_auth") == 0;
}

/* The role gate: identity comes only from auth_identify, never a header
 * or a FastCGI parameter. */
static int
req_gate(struct req *r, const struct route *rt)
{
	if (rt->role == ROLE_PUBLIC)
		return 0;
	if (r->user == NULL) {
		reply_problem(r, 401, NULL, "authentication required");
		return -1;
	}
	if (r->role == NULL || (strcmp(r->role, "admin") != 0 &&
	    strcmp(r->role, "deployer") != 0)) {
		reply_problem(r, 403, NULL, "no role for %s", r->user);
		return -1;
	}
	if (rt->role == ROLE_ADMIN && strcmp(r->role, "admin") != 0) {
		reply_problem(r, 403, NULL, "%s is not an admin", r->user);
		return -1;
	}
	return 0;
}

/* API bodies are JSON and page bodies forms: refuse anything else before
 * parsing. JSON endpoints thereby refuse the "simple" types a foreign page
 * can send without CORS. */
static int
req_check_type(struct req *r, const struct route *rt)
{
	if (strcmp(r->method, "POST") != 0 && r->bodylen == 0)
		return 0;
	if (r->ctype == NULL && r->bodylen == 0)
		return 0;
	if (rt->body == BODY_FORM) {
		if (!http_content_type_is_form(r->ctype)) {
			reply_problem(r, 415, NULL, "send the form as "
			    "application/x-www-form-urlencoded (got %.80s)",
			    r->ctype != NULL ? r->ctype : "no type");
			return -1;
		}
		return 0;
	}
	if (!http_content_type_is_json(r->ctype)) {
		reply_problem(r, 415, NULL, "send the body as application/json "
		    "(got %.80s)", r->ctype != NULL ? r->ctype : "no type");
		return -1;
	}
	return 0;
}

/*
 * Cross-site request forgery, first line: an unsafe method is refused when
 * the browser says it comes from another site (Sec-Fetch-Site) or names
 * an Origin other than ours. Ours is the origin of [oidc] redirect_uri,
 * else https:// and the Host header. Clients without these headers (curl,
 * API tokens) pass; forms also carry the session's csrf token.
 */
static int
req_check_origin(struct req *r)
{
	const char	*sfs, *origin, *host;
	char		 mine[300];

	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0 ||
	    strcmp(r->method, "OPTIONS") == 0)
		return 0;
	sfs = param(r, "HTTP_SEC_FETCH_SITE");
	if (sfs != NULL && strcasecmp(sfs, "cross-site") == 0) {
		reply_problem(r, 403, NULL, "cross-site request refused");
		return -1;
	}
	if ((origin = param(r, "HTTP_ORIGIN")) == NULL)
		return 0;
	if (r->cfg->oidc_origin != NULL)
		snprintf(mine, sizeof(mine), "%s", r->cfg->oidc_origin);
	else if ((host = param(r, "HTTP_HOST")) != NULL)
		snprintf(mine, sizeof(mine), "https://%s", host);
	else
		mine[0] = '\0';
	if (strcasecmp(origin, mine) != 0) {
		reply_problem(r, 403, NULL, "cross-origin request refused "
		    "(Origin %.100s)", origin);
		return -1;
	}
	return 0;
}

/*
 * Everything but the public routes needs a live token or session, unknown
 * paths included (a stranger learns nothing about which exist): checked
 * here, in the same request as the work.
 */
void
req_serve(FCGX_Request *fr, const struct cfg *cfg, PGconn **dbp,
    struct authcache *cache)
{
	struct req		 r;
	const struct route	*rt;
	enum route_result	 found;

	memset(&r, 0, sizeof(r));
	r.fcgx = fr;
	r.cfg = cfg;
	r.dbp = dbp;
	r.cache = cache;
	r.method = "?";
	r.path = "?";
	if (req_init(&r) != 0)
		goto done;
	if (req_is_auth(&r)) {
		auth_check(&r);
		goto done;
	}
	found = route_match(&r, &rt);
	if ((found != ROUTE_FOUND || rt->role != ROLE_PUBLIC) &&
	    auth_identify(&r) != 0)
		goto done;
	switch (found) {
	case ROUTE_NOT_FOUND:
		reply_problem(&r, 404, NULL, "no such resource: %.200s", r.path);
		goto done;
	case ROUTE_BAD_METHOD:
		reply_problem(&r, 405, NULL, "%s is not allowed here (allowed: "
		    "%s)", r.method, r.allow);
		goto done;
	case ROUTE_FOUND:
		break;
	}
	if (req_gate(&r, rt) != 0 || req_check_origin(&r) != 0)
		goto done;
	if (req_read_body(&r) != 0 || req_check_type(&r, rt) != 0)
		goto done;
	if (rt->handler != NULL)
		rt->handler(&r);
	else if (rt->body == BODY_JSON)
		action_api(&r);
	else
		action_form(&r);
done:
	if (r.status >= 500)
		log_warn("%s %s -> %d", r.method, r.path, r.status);
	free(r.body);
}
