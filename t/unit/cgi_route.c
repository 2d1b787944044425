/* cgi_route.c: TAP tests for the route table, the actions' routes and the
 * matcher, linked against the real tables and handlers
 * (build/libspiderpig-cgi.a). */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "cgi.h"

static enum route_result
route(struct req *r, const char *method, const char *path,
    const struct route **rt)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	snprintf(r->pathbuf, sizeof(r->pathbuf), "%s", path);
	r->path = r->pathbuf;
	return route_match(r, rt);
}

/* True when method path is the named action's route for body kind b. */
static int
is_action(const char *method, const char *path, const char *name,
    enum body_kind b)
{
	const struct route	*rt;
	struct req		 r;

	return route(&r, method, path, &rt) == ROUTE_FOUND &&
	    r.action == action_find(name) && r.action != NULL &&
	    rt->handler == NULL && rt->body == b && r.route == rt;
}

/* Every action: a name, SQL, an API route, and a back page per form. */
static void
test_action_table(void)
{
	size_t	i, k;
	int	api, good = 1;

	for (i = 0; i < nactions; i++) {
		api = 0;
		for (k = 0; k < ACTION_ROUTES; k++) {
			const struct route *rt = &actions[i].routes[k];

			if (rt->pattern == NULL)
				continue;
			api += rt->body == BODY_JSON;
			if (rt->body == BODY_FORM && (rt->back == NULL ||
			    strcmp(rt->method, "POST") != 0))
				good = 0;
		}
		if (api != 1 || actions[i].sql == NULL ||
		    actions[i].label == NULL ||
		    actions[i].nfields > ACTION_FIELDS ||
		    (actions[i].subject && actions[i].nfields == 0))
			good = 0;
	}
	ok(good, "every action has one API route, SQL and form back pages");
	ok(nactions == 14, "fourteen actions");
}

int
main(void)
{
	const struct route	*rt;
	struct req		 r;

	test_action_table();
	ok(is_action("POST", "/api/v1/deployments", "enqueue", BODY_JSON),
	    "enqueue");
	ok(is_action("POST", "/ui/deployments", "enqueue", BODY_FORM),
	    "enqueue from the dashboard: the same action");
	ok(route(&r, "GET", "/api/v1/deployments", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_list && r.action == NULL, "history");
	ok(route(&r, "GET", "/api/v1/deployments/42", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_get && r.id == 42, "one deployment, id 42");
	ok(route(&r, "GET", "/api/v1/deployments/42/log", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_log && r.id == 42, "log");
	ok(is_action("POST", "/api/v1/deployments/7/answer", "answer",
	    BODY_JSON), "answer");
	ok(route(&r, "POST", "/api/v1/deployments/7/answer", &rt) ==
	    ROUTE_FOUND && r.id == 7, "answer names the deployment");
	ok(is_action("POST", "/ui/deployments/7/answer", "answer", BODY_FORM),
	    "answer from the dashboard");
	ok(route(&r, "GET", "/api/v1/deployments/abc", &rt) == ROUTE_NOT_FOUND,
	    "letters in {id}: not found");
	ok(route(&r, "GET", "/api/v1/deployments/0", &rt) == ROUTE_NOT_FOUND,
	    "id 0: not found");
	ok(route(&r, "GET", "/api/v1/deployments/007", &rt) == ROUTE_NOT_FOUND,
	    "leading zeros: not found");
	ok(route(&r, "GET", "/api/v1/deployments/99999999999999999999", &rt) ==
	    ROUTE_NOT_FOUND, "overflowing id: not found");
	ok(route(&r, "GET", "/api/v1/deployments/", &rt) == ROUTE_NOT_FOUND,
	    "trailing slash: not found");
	ok(route(&r, "GET", "/api/v1/deployments//log", &rt) == ROUTE_NOT_FOUND,
	    "empty segment: not found");
	ok(route(&r, "GET", "/api/v1/deployments/1/log/x", &rt) == ROUTE_NOT_FOUND,
	    "extra segment: not found");
	ok(route(&r, "GET", "/api/v1", &rt) == ROUTE_NOT_FOUND, "prefix only");
	ok(route(&r, "GET", "", &rt) == ROUTE_NOT_FOUND, "empty path");
	ok(route(&r, "DELETE", "/api/v1/queue", &rt) == ROUTE_BAD_METHOD &&
	    strcmp(r.allow, "GET") == 0, "405 with Allow: GET");
	ok(route(&r, "PUT", "/api/v1/deployments", &rt) == ROUTE_BAD_METHOD &&
	    strcmp(r.allow, "POST, GET") == 0, "Allow lists both");
	ok(route(&r, "GET", "/admin/freeze", &rt) == ROUTE_BAD_METHOD &&
	    strcmp(r.allow, "POST") == 0, "Allow names a method once");
	ok(is_action("POST", "/api/v1/admin/users/alice.b/ban", "ban",
	    BODY_JSON) && route(&r, "POST", "/api/v1/admin/users/alice.b/ban",
	    &rt) == ROUTE_FOUND && rt->role == ROLE_ADMIN &&
	    strcmp(r.name, "alice.b") == 0, "ban names the user");
	ok(route(&r, "POST", "/api/v1/admin/users/-x/ban", &rt) ==
	    ROUTE_NOT_FOUND, "bad user name: not found");
	ok(is_action("POST", "/api/v1/admin/users/alice/totp-reset",
	    "totp-reset", BODY_JSON), "totp-reset has an API route");
	ok(is_action("POST", "/admin/totp-reset", "totp-reset", BODY_FORM),
	    "and the admin page's");
	ok(is_action("POST", "/api/v1/admin/queue/5/move", "move", BODY_JSON),
	    "move");
	ok(is_action("DELETE", "/api/v1/admin/tokens/9", "token-revoke",
	    BODY_JSON), "revoke token");
	ok(is_action("POST", "/tokens/9/revoke", "token-revoke", BODY_FORM) &&
	    route(&r, "POST", "/tokens/9/revoke", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_USER && strcmp(rt->back, "/tokens") == 0,
	    "revoke from the tokens page: a user's, back to /tokens");
	ok(is_action("POST", "/admin/token-revoke", "token-revoke", BODY_FORM)
	    && route(&r, "POST", "/admin/token-revoke", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_ADMIN, "and from the admin page: an admin's");
	ok(route(&r, "POST", "/admin/nonesuch", &rt) == ROUTE_FOUND &&
	    rt->handler == page_admin_unknown && r.action == NULL,
	    "an unknown admin action: its own page");
	ok(route(&r, "GET", "/api/v1/healthz", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_PUBLIC, "healthz is public");
	ok(route(&r, "GET", "/api/v1/status", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_USER, "status needs a user");
	return tap_done();
}
