/* route.c: the route table and the matcher. Adding an endpoint means adding
 * one line here and one handler in the file of its resource. */
#include <string.h>

#include "cgi.h"
#include "util.h"

static const struct route routes[] = {
	{ "GET",    "/api/v1/healthz",			health_live,		ROLE_PUBLIC,	BODY_JSON },
	{ "GET",    "/api/v1/readyz",			health_ready,		ROLE_PUBLIC,	BODY_JSON },

	{ "POST",   "/api/v1/deployments",		deployments_create,	ROLE_USER,	BODY_JSON },
	{ "GET",    "/api/v1/deployments",		deployments_list,	ROLE_USER,	BODY_JSON },
	{ "GET",    "/api/v1/deployments/{id}",		deployments_get,	ROLE_USER,	BODY_JSON },
	{ "GET",    "/api/v1/deployments/{id}/log",	deployments_log,	ROLE_USER,	BODY_JSON },
	{ "POST",   "/api/v1/deployments/{id}/answer",	deployments_answer,	ROLE_USER,	BODY_JSON },
	{ "POST",   "/api/v1/deployments/{id}/rollback",deployments_rollback,	ROLE_USER,	BODY_JSON },
	{ "POST",   "/api/v1/deployments/{id}/cancel",	deployments_cancel,	ROLE_USER,	BODY_JSON },
	{ "GET",    "/api/v1/queue",			queue_get,		ROLE_USER,	BODY_JSON },
	{ "GET",    "/api/v1/status",			status_get,		ROLE_USER,	BODY_JSON },

	{ "POST",   "/api/v1/admin/freeze",		admin_freeze,		ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/unfreeze",		admin_unfreeze,		ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/users",		admin_user_set,		ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/users/{name}/ban",	admin_user_ban,		ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/users/{name}/unban",	admin_user_unban,	ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/users/{name}/logout",admin_user_logout,	ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/logout-all",		admin_logout_all,	ROLE_ADMIN,	BODY_JSON },
	{ "POST",   "/api/v1/admin/queue/{id}/move",	admin_queue_move,	ROLE_ADMIN,	BODY_JSON },
	{ "DELETE", "/api/v1/admin/tokens/{id}",	admin_token_revoke,	ROLE_ADMIN,	BODY_JSON },

	{ "GET",    "/login",				login_start,		ROLE_PUBLIC,	BODY_FORM },
	{ "GET",    "/login/callback",			login_callback,		ROLE_PUBLIC,	BODY_FORM },
	{ "GET",    "/totp",				totp_page,		ROLE_PUBLIC,	BODY_FORM },
	{ "POST",   "/totp",				totp_submit,		ROLE_PUBLIC,	BODY_FORM },
	{ "POST",   "/logout",				logout_post,		ROLE_USER,	BODY_FORM },

	{ "GET",    "/",				page_dashboard,		ROLE_USER,	BODY_FORM },
	{ "POST",   "/ui/deployments",			page_deploy,		ROLE_USER,	BODY_FORM },
	{ "POST",   "/ui/deployments/{id}/answer",	page_answer,		ROLE_USER,	BODY_FORM },
	{ "POST",   "/ui/deployments/{id}/rollback",	page_rollback,		ROLE_USER,	BODY_FORM },
	{ "POST",   "/ui/deployments/{id}/cancel",	page_cancel,		ROLE_USER,	BODY_FORM },
	{ "GET",    "/tokens",				page_tokens,		ROLE_USER,	BODY_FORM },
	{ "POST",   "/tokens",				page_token_create,	ROLE_USER,	BODY_FORM },
	{ "POST",   "/tokens/{id}/revoke",		page_token_revoke,	ROLE_USER,	BODY_FORM },
	{ "GET",    "/admin",				page_admin,		ROLE_ADMIN,	BODY_FORM },
	{ "POST",   "/admin/{name}",			page_admin_action,	ROLE_ADMIN,	BODY_FORM },
};

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

enum route_result
route_match(struct req *r, const struct route **out)
{
	size_t		 i, n = sizeof(routes) / sizeof(routes[0]);
	size_t		 alen = 0;
	int		 path_found = 0;

	*out = NULL;
	r->allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!path_match(r, routes[i].pattern))
			continue;
		if (strcmp(routes[i].method, r->method) == 0) {
			*out = &routes[i];
			return ROUTE_FOUND;
		}
		path_found = 1;
		if (alen + strlen(routes[i].method) + 3 < sizeof(r->allow)) {
			if (alen > 0) {
				memcpy(r->allow + alen, ", ", 2);
				alen += 2;
			}
			memcpy(r->allow + alen, routes[i].method,
			    strlen(routes[i].method) + 1);
			alen += strlen(routes[i].method);
		}
	}
	r->id = 0;
	r->name = NULL;
	return path_found ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
