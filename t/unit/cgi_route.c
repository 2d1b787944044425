/* cgi_route.c: TAP tests for the route table and matcher, linked against
 * the real table and handlers (build/libspiderpig-cgi.a). */
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

int
main(void)
{
	const struct route	*rt;
	struct req		 r;

	ok(route(&r, "POST", "/api/v1/deployments", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_create && rt->role == ROLE_USER,
	    "enqueue");
	ok(route(&r, "GET", "/api/v1/deployments", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_list, "history");
	ok(route(&r, "GET", "/api/v1/deployments/42", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_get && r.id == 42, "one deployment, id 42");
	ok(route(&r, "GET", "/api/v1/deployments/42/log", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_log && r.id == 42, "log");
	ok(route(&r, "POST", "/api/v1/deployments/7/answer", &rt) == ROUTE_FOUND &&
	    rt->handler == deployments_answer && r.id == 7, "answer");
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
	ok(route(&r, "POST", "/api/v1/admin/users/alice.b/ban", &rt) ==
	    ROUTE_FOUND && rt->handler == admin_user_ban &&
	    rt->role == ROLE_ADMIN && strcmp(r.name, "alice.b") == 0,
	    "ban names the user");
	ok(route(&r, "POST", "/api/v1/admin/users/-x/ban", &rt) ==
	    ROUTE_NOT_FOUND, "bad user name: not found");
	ok(route(&r, "POST", "/api/v1/admin/queue/5/move", &rt) == ROUTE_FOUND &&
	    rt->handler == admin_queue_move && r.id == 5, "move");
	ok(route(&r, "DELETE", "/api/v1/admin/tokens/9", &rt) == ROUTE_FOUND &&
	    rt->handler == admin_token_revoke && r.id == 9, "revoke token");
	ok(route(&r, "GET", "/api/v1/healthz", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_PUBLIC, "healthz is public");
	ok(route(&r, "GET", "/api/v1/status", &rt) == ROUTE_FOUND &&
	    rt->role == ROLE_USER, "status needs a user");
	return tap_done();
}
