/* page_admin.c: GET /admin, the admin page: the freeze, the users, the
 * queue, and a form for each admin action (drawn from action_table.c;
 * each form posts to its action's admin form route). */
#include <string.h>

#include <cJSON.h>

#include "cgi.h"

/* The admin actions each section offers, by name, NULL-terminated. */
static const char *const freeze_actions[] = { "freeze", "unfreeze", NULL };
static const char *const user_actions[] = { "set-role", "ban", "unban",
	"logout", "totp-reset", "logout-all", NULL };
static const char *const queue_actions[] = { "move", "token-revoke", NULL };

/* The admin page's form route of a (an admin's, no placeholder), or NULL. */
static const struct route *
admin_route(const struct action *a)
{
	size_t	i;

	for (i = 0; i < ACTION_ROUTES; i++)
		if (a->routes[i].pattern != NULL &&
		    a->routes[i].body == BODY_FORM &&
		    a->routes[i].role == ROLE_ADMIN &&
		    strchr(a->routes[i].pattern, '{') == NULL)
			return &a->routes[i];
	return NULL;
}

/* The forms of the actions named in names, posting to their routes. */
static void
admin_forms(struct html *h, const struct session *s,
    const char *const *names)
{
	const struct action	*a;
	const struct route	*rt;

	for (; *names != NULL; names++)
		if ((a = action_find(*names)) != NULL &&
		    (rt = admin_route(a)) != NULL)
			page_action_form(h, s, a, rt->pattern, 1);
}

/* The users table. */
static void
users_table(struct html *h, const cJSON *doc)
{
	const cJSON	*u;

	html_raw(h, "<table><tr><th>Name</th><th>Role</th><th>Banned</th>"
	    "</tr>\n");
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(doc, "users")) {
		html_raw(h, "<tr><td>");
		html_escape(h, page_str(u, "name"));
		html_raw(h, "</td><td>");
		html_escape(h, page_str(u, "role"));
		html_raw(h, "</td><td>");
		html_escape(h, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u,
		    "banned")) ? "yes" : "no");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table>\n");
}

int
page_admin(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc;
	const char	*params[1];

	if (page_session(r, &s) != 0)
		return 0;
	params[0] = r->user;
	if ((doc = page_json(r, "SELECT spiderpig.admin_overview($1)", 1,
	    params)) == NULL)
		return 0;
	html_begin(&h, "Admin", &s);
	html_raw(&h, "<h3>Freeze</h3>\n");
	page_freeze_banner(&h, doc);
	admin_forms(&h, &s, freeze_actions);
	html_raw(&h, "<h3>Users</h3>\n");
	users_table(&h, doc);
	admin_forms(&h, &s, user_actions);
	page_queue_table(&h, doc);
	admin_forms(&h, &s, queue_actions);
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}

/* POST /admin/{name} for a name no action has. */
int
page_admin_unknown(struct req *r)
{
	html_message(r, 404, NULL, "Not found", "No such admin action.");
	return 0;
}
