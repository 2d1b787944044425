/* page_admin.c: GET /admin, the admin page: the freeze (reason, end
 * time), the users with a ban, unban, log out and reset button each, the
 * live API tokens with revoke, and the queue with cancel and move per
 * row. Every form posts to its action's route of action_table.c; the
 * destructive ones answer with a confirmation step first (action_run.c),
 * and each comes back here saying what it did. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "cgi.h"

/* A one-button form posting field=value to path, back to /admin; the
 * button reads label, its accessible name "label what". */
static void
row_button(struct html *h, const struct session *s, const char *path,
    const char *field, const char *value, const char *label,
    const char *what)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"");
	html_escape(h, path);
	html_raw(h, "\">");
	html_csrf(h, s);
	html_raw(h, "<input type=\"hidden\" name=\"");
	html_escape(h, field);
	html_raw(h, "\" value=\"");
	html_escape(h, value);
	html_raw(h, "\"><input type=\"hidden\" name=\"back\" value=\"/admin\">"
	    "<button aria-label=\"");
	html_escape(h, label);
	html_raw(h, " ");
	html_escape(h, what);
	html_raw(h, "\">");
	html_escape(h, label);
	html_raw(h, "</button></form> ");
}

static void
freeze_section(struct html *h, const struct session *s, const cJSON *doc)
{
	html_raw(h, "<section aria-labelledby=\"freeze-title\"><h2 "
	    "id=\"freeze-title\">Freeze</h2>\n<div id=\"freeze-banner\" "
	    "aria-live=\"polite\">");
	page_freeze_banner(h, doc);
	html_raw(h, "</div>\n");
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "freeze")))
		page_action_form(h, s, action_find("unfreeze"),
		    "/admin/unfreeze", 1);
	else
		html_raw(h, "<p>Deployments are not frozen.</p>\n");
	page_action_form(h, s, action_find("freeze"), "/admin/freeze", 1);
	html_raw(h, "</section>\n");
}

static void
users_section(struct html *h, const struct session *s, const cJSON *doc)
{
	const cJSON	*u;
	const char	*name;
	int		 banned;

	html_raw(h, "<section aria-labelledby=\"users-title\"><h2 "
	    "id=\"users-title\">Users</h2>\n<div class=\"scroll\"><table "
	    "id=\"users\"><thead><tr><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Role</th><th scope=\"col\">Banned</th>"
	    "<th scope=\"col\">Actions</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(doc, "users")) {
		name = page_str(u, "name");
		banned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u,
		    "banned"));
		html_raw(h, "<tr><th scope=\"row\">");
		html_escape(h, name);
		html_raw(h, "</th><td>");
		html_escape(h, page_str(u, "role"));
		html_raw(h, "</td><td>");
		html_raw(h, banned ? "yes" : "no");
		html_raw(h, "</td><td>");
		if (banned)
			row_button(h, s, "/admin/unban", "name", name, "Unban",
			    name);
		else
			row_button(h, s, "/admin/ban", "name", name, "Ban",
			    name);
		row_button(h, s, "/admin/logout", "name", name, "Log out",
		    name);
		row_button(h, s, "/admin/totp-reset", "name", name,
		    "Reset second factor", name);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n<h3>Add a user or change a "
	    "role</h3>\n");
	page_action_form(h, s, action_find("set-role"), "/admin/set-role", 1);
	html_raw(h, "<h3>Everyone</h3>\n");
	page_action_form(h, s, action_find("logout-all"), "/admin/logout-all",
	    1);
	html_raw(h, "</section>\n");
}

static void
tokens_section(struct html *h, const struct session *s, const cJSON *tokens)
{
	const cJSON	*t;
	char		 id[24], what[120];

	html_raw(h, "<section aria-labelledby=\"tokens-title\"><h2 "
	    "id=\"tokens-title\">API tokens</h2>\n<div class=\"scroll\"><table "
	    "id=\"tokens\"><thead><tr><th scope=\"col\">ID</th>"
	    "<th scope=\"col\">Owner</th><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Created</th><th scope=\"col\">Expires</th>"
	    "<th scope=\"col\">Last used</th><th scope=\"col\">Actions</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(t, tokens) {
		snprintf(id, sizeof(id), "%lld", page_int(t, "id"));
		snprintf(what, sizeof(what), "%s of %s", page_str(t, "name"),
		    page_str(t, "owner"));
		html_raw(h, "<tr><td>");
		html_escape(h, id);
		html_raw(h, "</td><td>");
		html_escape(h, page_str(t, "owner"));
		html_raw(h, "</td><td>");
		html_escape(h, page_str(t, "name"));
		html_raw(h, "</td><td>");
		html_time(h, page_str(t, "created_at"));
		html_raw(h, "</td><td>");
		html_time(h, page_str(t, "expires_at"));
		html_raw(h, "</td><td>");
		html_time(h, page_str(t, "last_used_at"));
		html_raw(h, "</td><td>");
		row_button(h, s, "/admin/token-revoke", "token", id, "Revoke",
		    what);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

/* The queue: cancel each queued deployment, or move it. */
static void
queue_section(struct html *h, const struct session *s, const cJSON *doc)
{
	const cJSON	*d;
	long long	 id, pos;

	html_raw(h, "<section aria-labelledby=\"queue-title\"><h2 "
	    "id=\"queue-title\">Queue</h2>\n<div class=\"scroll\"><table "
	    "id=\"queue\"><thead><tr><th scope=\"col\">Position</th>"
	    "<th scope=\"col\">Deployment</th><th scope=\"col\">State</th>"
	    "<th scope=\"col\">Requester</th><th scope=\"col\">Actions</th>"
	    "</tr></thead><tbody>\n");
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc,
	    "queue")) == 0)
		html_raw(h, "<tr><td colspan=\"5\">The queue is empty.</td>"
		    "</tr>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "queue")) {
		id = page_int(d, "id");
		pos = page_int(d, "position");
		html_raw(h, "<tr><td>");
		if (pos > 0)
			html_int(h, pos);
		else
			html_raw(h, "active");
		html_raw(h, "</td><td><a href=\"/deployments/");
		html_int(h, id);
		html_raw(h, "\">#");
		html_int(h, id);
		html_raw(h, "</a></td><td>");
		page_state(h, d);
		html_raw(h, "</td><td>");
		html_escape(h, page_str(d, "requester"));
		html_raw(h, "</td><td>");
		if (pos > 0) {
			html_raw(h, "<form method=\"post\" class=\"inline\" "
			    "action=\"/ui/deployments/");
			html_int(h, id);
			html_raw(h, "/cancel\">");
			html_csrf(h, s);
			html_raw(h, "<input type=\"hidden\" name=\"back\" "
			    "value=\"/admin\"><button>Cancel deployment ");
			html_int(h, id);
			html_raw(h, "</button></form> <form method=\"post\" "
			    "class=\"inline\" action=\"/admin/move\">");
			html_csrf(h, s);
			html_raw(h, "<input type=\"hidden\" name=\"deployment\" "
			    "value=\"");
			html_int(h, id);
			html_raw(h, "\"><input type=\"hidden\" name=\"back\" "
			    "value=\"/admin\"><label>New position for "
			    "deployment ");
			html_int(h, id);
			html_raw(h, " <input name=\"position\" type=\"number\" "
			    "min=\"1\" class=\"narrow\" required value=\"");
			html_int(h, pos);
			html_raw(h, "\"></label> <button>Move</button></form>");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

int
page_admin(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc, *tokens;
	const char	*params[1];

	if (page_session(r, &s) != 0)
		return 0;
	params[0] = r->user;
	if ((doc = page_json(r, "SELECT spiderpig.admin_overview($1)", 1,
	    params)) == NULL)
		return 0;
	if ((tokens = page_json(r, "SELECT spiderpig.admin_tokens($1)", 1,
	    params)) == NULL) {
		cJSON_Delete(doc);
		return 0;
	}
	page_begin(r, &h, "Admin", &s, NULL, 0);
	freeze_section(&h, &s, doc);
	queue_section(&h, &s, doc);
	users_section(&h, &s, doc);
	tokens_section(&h, &s, tokens);
	html_raw(&h, "<p><a href=\"/admin/audit\">Audit: every event</a></p>\n");
	html_end(&h);
	cJSON_Delete(doc);
	cJSON_Delete(tokens);
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
