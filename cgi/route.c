/* route.c: the route table and the matcher. Adding a read or a page means
 * one line here and one handler in the file of its resource; an action's
 * routes are in its row of action_table.c. */
#include <string.h>

#include "cgi.h"
#include "util.h"

#define R(m, p, h, who, b)	{ .method = (m), .pattern = (p), \
	.handler = (h), .role = (who), .body = (b) }

/* The routes that are not an action's (those are in action_table.c). */
static const struct route routes[] = {
	R("GET",  "/api/v1/healthz",		health_live,	ROLE_PUBLIC,	BODY_JSON),
	R("GET",  "/api/v1/readyz",		health_ready,	ROLE_PUBLIC,	BODY_JSON),

	R("GET",  "/api/v1/deployments",	deployments_list, ROLE_USER,	BODY_JSON),
	R("GET",  "/api/v1/deployments/{id}",	deployments_get, ROLE_USER,	BODY_JSON),
	R("GET",  "/api/v1/deployments/{id}/log", deployments_log, ROLE_USER,	BODY_JSON),
	R("GET",  "/api/v1/queue",		queue_get,	ROLE_USER,	BODY_JSON),
	R("GET",  "/api/v1/status",		status_get,	ROLE_USER,	BODY_JSON),

	R("GET",  "/login",			login_start,	ROLE_PUBLIC,	BODY_FORM),
	R("GET",  "/login/callback",		login_callback,	ROLE_PUBLIC,	BODY_FORM),
	R("GET",  "/totp",			totp_page,	ROLE_PUBLIC,	BODY_FORM),
	R("POST", "/totp",			totp_submit,	ROLE_PUBLIC,	BODY_FORM),
	R("POST", "/logout",			logout_post,	ROLE_USER,	BODY_FORM),

	R("GET",  "/",				page_dashboard,	ROLE_USER,	BODY_FORM),
	R("GET",  "/tokens",			page_tokens,	ROLE_USER,	BODY_FORM),
	R("POST", "/tokens",			page_token_create, ROLE_USER,	BODY_FORM),
	R("GET",  "/admin",			page_admin,	ROLE_ADMIN,	BODY_FORM),
	/* After the actions' /admin/<name>: any other name is a 404 page. */
	R("POST", "/admin/{name}",		page_admin_unknown, ROLE_ADMIN,	BODY_FORM),
};
#undef R

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

/*
 * The i-th route to try: the actions' routes first (so /admin/freeze is
 * an action, not /admin/{name}), then the table above; NULL past the end.
 * An action's unused slot has no pattern. *a is the action the route
 * belongs to, or NULL.
 */
static const struct route *
route_at(size_t i, const struct action **a)
{
	*a = NULL;
	if (i < nactions * ACTION_ROUTES) {
		*a = &actions[i / ACTION_ROUTES];
		return &(*a)->routes[i % ACTION_ROUTES];
	}
	i -= nactions * ACTION_ROUTES;
	return i < NROUTES ? &routes[i] : NULL;
}


/*
 * Compare one path segment (seg, len bytes) with a pattern segment; fill
 * the placeholder into r. Returns 1 on a match.
 */
static int
segment_match(struct req *r, const char *pat, size_t plen, char *seg,
    size_t len)
{
	const char	*why;
	long long	 id;
	char		 save;
	int		 ok;

	if (plen == 4 && memcmp(pat, "{id}", 4) == 0) {
		save = seg[len];
		seg[len] = '\0';
		ok = util_strtonum(seg, 1, 9007199254740991LL, &id, &why) == 0;
		seg[len] = save;
		if (ok)
			r->id = id;
		return ok;
	}
	if (plen == 6 && memcmp(pat, "{name}", 6) == 0) {
		if (len >= sizeof(r->namebuf))
			return 0;
		memcpy(r->namebuf, seg, len);
		r->namebuf[len] = '\0';
		ok = check_user_name(r->namebuf, &why) == 0;
		if (ok)
			r->name = r->namebuf;
		return ok;
	}
	return plen == len && memcmp(pat, seg, len) == 0;
}

/* Match r->pathbuf against one pattern, segment by segment. */
static int
path_match(struct req *r, const char *pattern)
{
	const char	*p = pattern, *pe;
	char		*s = r->pathbuf, *se;

	r->id = 0;
	r->name = NULL;
	for (;;) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		se = strchr(s, '/');
		if (se == NULL)
			se = s + strlen(s);
		if (!segment_match(r, p, (size_t)(pe - p), s, (size_t)(se - s)))
			return 0;
		p = pe;
		s = se;
		if (*p == '\0' && *s == '\0')
			return 1;
	}
}

/* Add method to r->allow unless it is there already or does not fit. */
static void
allow_add(struct req *r, const char *method)
{
	size_t	alen = strlen(r->allow), mlen = strlen(method);
	char	*p;

	for (p = r->allow; (p = strstr(p, method)) != NULL; p += mlen)
		if ((p == r->allow || p[-1] == ' ') &&
		    (p[mlen] == ',' || p[mlen] == '\0'))
			return;
	if (alen + mlen + 3 >= sizeof(r->allow))
		return;
	if (alen > 0) {
		memcpy(r->allow + alen, ", ", 2);
		alen += 2;
	}
	memcpy(r->allow + alen, method, mlen + 1);
}

enum route_result
route_match(struct req *r, const struct route **out)
{
	const struct route	*rt;
	const struct action	*a;
	size_t			 i;
	int			 path_found = 0;

	*out = NULL;
	r->route = NULL;
	r->action = NULL;
	r->allow[0] = '\0';
	for (i = 0; (rt = route_at(i, &a)) != NULL; i++) {
		if (rt->pattern == NULL || !path_match(r, rt->pattern))
			continue;
		if (strcmp(rt->method, r->method) == 0) {
			*out = rt;
			r->route = rt;
			r->action = a;
			return ROUTE_FOUND;
		}
		path_found = 1;
		allow_add(r, rt->method);
	}
	r->id = 0;
	r->name = NULL;
	return path_found ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
