/* pages.c: the HTML pages behind the nginx gate: the dashboard and its
 * deployment forms, API tokens and the admin page. Forms are validated by
 * table and carry the session's csrf token; actions answer 303. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"
#include "json.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL
#define PATCHES_MAX	20

/* The session of a gated page: AAL2 and the user nginx vouched for. */
static int
page_session(struct req *r, struct session *s)
{
	int	rc;

	if ((rc = session_load(r, s)) < 0)
		return -1;
	if (rc == 0 || s->aal != 2 || r->user == NULL ||
	    strcmp(r->user, s->user) != 0) {
		html_message(r, 403, NULL, "Forbidden", "The pages need a "
		    "browser session; sign in at /login.");
		return -1;
	}
	return 0;
}

/* A form to POST to action with a csrf field and one button. */
static void
button_form(struct html *h, const struct session *s, const char *action,
    long long id, const char *suffix, const char *label)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"");
	html_escape(h, action);
	if (id > 0) {
		html_int(h, id);
		html_escape(h, suffix);
	}
	html_raw(h, "\">");
	html_csrf(h, s);
	html_raw(h, "<button>");
	html_escape(h, label);
	html_raw(h, "</button></form>");
}

/* Run a query whose one value is JSON, for a page. NULL after answering. */
static cJSON *
page_json(struct req *r, const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	cJSON		*doc = NULL;

	if ((res = req_exec_page(r, sql, n, params)) == NULL)
		return NULL;
	if (PQntuples(res) != 1 || (doc = json_from_pg(res, 0, 0)) == NULL)
		html_message(r, 500, NULL, "Internal error", "bad JSON from "
		    "the database");
	PQclear(res);
	return doc;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static long long
jint(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static void
patches_text(struct html *h, const cJSON *d)
{
	const cJSON	*p;
	int		 first = 1;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(d, "patches")) {
		if (!first)
			html_raw(h, " ");
		html_escape(h, cJSON_IsString(p) ? p->valuestring : "");
		first = 0;
	}
}

#define SQL_OPEN_PROMPT \
	"(SELECT json_build_object('id', p.id, 'kind', p.kind, " \
	"'question', p.question, 'choices', p.choices) FROM " \
	"spiderpig.prompts p WHERE p.deployment_id = d.id AND " \
	"p.answered_at IS NULL ORDER BY p.id DESC LIMIT 1)"

/* The freeze in force (object or null) and the queue (array), as members
 * of a json_build_object for freeze_banner() and queue_table(). */
#define SQL_FREEZE_AND_QUEUE \
	"'freeze', (SELECT json_build_object('reason', f.reason, 'by', " \
	"  f.frozen_by, 'until', f.until) FROM spiderpig.freezes f WHERE " \
	"  f.lifted_at IS NULL AND (f.until IS NULL OR f.until > now()) " \
	"  ORDER BY f.id DESC LIMIT 1), " \
	"'queue', (SELECT coalesce(json_agg(json_build_object('id', d.id, " \
	"  'state', d.state, 'position', d.position, 'requester', " \
	"  d.requester, 'patches', d.patches) ORDER BY d.position NULLS " \
	"  FIRST, d.id), '[]') FROM spiderpig.deployments d WHERE d.state " \
	"  NOT IN ('done', 'rolled_back', 'rollback_failed', 'cancelled', " \
	"  'expired'))"

/* "Deployments are frozen by ..." when doc's freeze is an object. */
static void
freeze_banner(struct html *h, const cJSON *doc)
{
	const cJSON	*fr = cJSON_GetObjectItemCaseSensitive(doc, "freeze");

	if (!cJSON_IsObject(fr))
		return;
	html_raw(h, "<p class=\"freeze\">Deployments are frozen by ");
	html_escape(h, jstr(fr, "by"));
	html_raw(h, ": ");
	html_escape(h, jstr(fr, "reason"));
	if (jstr(fr, "until")[0] != '\0') {
		html_raw(h, " (until ");
		html_escape(h, jstr(fr, "until"));
		html_raw(h, ")");
	}
	html_raw(h, "</p>\n");
}

/* The active deployment and the queue in order, with positions. */
static void
queue_table(struct html *h, const cJSON *doc)
{
	const cJSON	*d;

	html_raw(h, "<h3>Queue</h3>\n<table><tr><th>Position</th><th>ID</th>"
	    "<th>State</th><th>Requester</th><th>Patches</th></tr>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "queue")) {
		html_raw(h, "<tr><td>");
		if (jint(d, "position") > 0)
			html_int(h, jint(d, "position"));
		else
			html_raw(h, "active");
		html_raw(h, "</td><td>");
		html_int(h, jint(d, "id"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(d, "state"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(d, "requester"));
		html_raw(h, "</td><td>");
		patches_text(h, d);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table>\n");
}

/* GET /: freeze banner, queue with positions, submit form, and the
 * user's deployments with their open prompt and actions. */
int
page_dashboard(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc, *d, *p, *c;
	const char	*params[1];

	if (page_session(r, &s) != 0)
		return 0;
	params[0] = s.user;
	if ((doc = page_json(r, "SELECT json_build_object("
	    SQL_FREEZE_AND_QUEUE ", "
	    "'mine', (SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]') "
	    "  FROM (SELECT d.id, d.state, d.patches, d.created_at, "
	    SQL_OPEN_PROMPT " AS prompt FROM spiderpig.deployments d WHERE "
	    "  d.requester = $1 ORDER BY d.id DESC LIMIT 20) x))",
	    1, params)) == NULL)
		return 0;

	html_begin(&h, "Dashboard", &s);
	freeze_banner(&h, doc);
	queue_table(&h, doc);
	html_raw(&h, "<h3>Deploy</h3>\n<form method=\"post\" "
	    "action=\"/ui/deployments\">");
	html_csrf(&h, &s);
	html_raw(&h, "<label>Patches (change numbers or URLs, separated by "
	    "spaces) <input name=\"patches\" size=\"60\" required></label> "
	    "<button>Queue</button></form>\n");

	html_raw(&h, "<h3>Your deployments</h3>\n<table><tr><th>ID</th>"
	    "<th>State</th><th>Patches</th><th>Prompt</th><th>Actions</th>"
	    "</tr>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "mine")) {
		html_raw(&h, "<tr><td>");
		html_int(&h, jint(d, "id"));
		html_raw(&h, "</td><td>");
		html_escape(&h, jstr(d, "state"));
		html_raw(&h, "</td><td>");
		patches_text(&h, d);
		html_raw(&h, "</td><td>");
		p = cJSON_GetObjectItemCaseSensitive(d, "prompt");
		if (cJSON_IsObject(p)) {
			html_escape(&h, jstr(p, "question"));
			cJSON_ArrayForEach(c,
			    cJSON_GetObjectItemCaseSensitive(p, "choices")) {
				if (!cJSON_IsString(c))
					continue;
				html_raw(&h, " <form method=\"post\" "
				    "class=\"inline\" action=\"/ui/deployments/");
				html_int(&h, jint(d, "id"));
				html_raw(&h, "/answer\">");
				html_csrf(&h, &s);
				html_raw(&h, "<input type=\"hidden\" "
				    "name=\"prompt\" value=\"");
				html_int(&h, jint(p, "id"));
				html_raw(&h, "\"><input type=\"hidden\" "
				    "name=\"answer\" value=\"");
				html_escape(&h, c->valuestring);
				html_raw(&h, "\"><button>");
				html_escape(&h, c->valuestring);
				html_raw(&h, "</button></form>");
			}
		}
		html_raw(&h, "</td><td>");
		if (strcmp(jstr(d, "state"), "queued") == 0 ||
		    strcmp(jstr(d, "state"), "awaiting_ready") == 0)
			button_form(&h, &s, "/ui/deployments/", jint(d, "id"),
			    "/cancel", "Cancel");
		button_form(&h, &s, "/ui/deployments/", jint(d, "id"),
		    "/rollback", "Roll back");
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</table>\n");
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}

/* ---- Form actions: one table row each ----------------------------------- */

/*
 * A form action: fields[0] is csrf; sql gets $1 = the actor, then the
 * {id} of the path when with_id, then the other fields in table order
 * (NULL when absent). On success: 303 to back.
 */
struct action {
	const char		*name;		/* admin/{name}; NULL otherwise */
	const struct field	*fields;
	size_t			 nfields;
	int			 with_id;
	const char		*sql;
	const char		*back;
};

static const struct field f_csrf[] = {
	{ "csrf", FT_STRING, 1, 1, 128, 0, NULL, NULL },
};
static const struct field f_answer[] = {
	{ "csrf",   FT_STRING,  1, 1, 128, 0, NULL, NULL },
	{ "prompt", FT_INTEGER, 1, 1, ID_MAX, 0, NULL, NULL },
	{ "answer", FT_STRING,  1, 1, 32, 0, check_text, NULL },
};
static const struct field f_reason[] = {
	{ "csrf",   FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "reason", FT_STRING, 0, 1, 500, 0, check_text, NULL },
};
static const struct field f_freeze[] = {
	{ "csrf",   FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "reason", FT_STRING, 1, 1, 500, 0, check_text, NULL },
	{ "until",  FT_STRING, 0, 1, 64, 0, check_rfc3339, NULL },
};
static const struct field f_name[] = {
	{ "csrf", FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "name", FT_STRING, 1, 1, 128, 0, check_user_name, NULL },
};
static const struct field f_name_reason[] = {
	{ "csrf",   FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "name",   FT_STRING, 1, 1, 128, 0, check_user_name, NULL },
	{ "reason", FT_STRING, 1, 1, 500, 0, check_text, NULL },
};
static const struct field f_move[] = {
	{ "csrf",       FT_STRING,  1, 1, 128, 0, NULL, NULL },
	{ "deployment", FT_INTEGER, 1, 1, ID_MAX, 0, NULL, NULL },
	{ "position",   FT_INTEGER, 1, 1, 100000, 0, NULL, NULL },
};
static const struct field f_token[] = {
	{ "csrf",  FT_STRING,  1, 1, 128, 0, NULL, NULL },
	{ "token", FT_INTEGER, 1, 1, ID_MAX, 0, NULL, NULL },
};

#define A(f)	f, NELEM(f)
static const struct action a_answer = { NULL, A(f_answer), 1,
	"SELECT spiderpig.answer($1, $2::bigint, $3::bigint, $4)", "/" };
static const struct action a_rollback = { NULL, A(f_reason), 1,
	"SELECT spiderpig.request_rollback($1, $2::bigint, $3)", "/" };
static const struct action a_cancel = { NULL, A(f_csrf), 1,
	"SELECT spiderpig.cancel($1, $2::bigint)", "/" };
static const struct action a_token_revoke = { NULL, A(f_csrf), 1,
	"SELECT spiderpig.revoke_token($1, $2::bigint)", "/tokens" };

static const struct action admin_actions[] = {
	{ "freeze", A(f_freeze), 0,
	  "SELECT spiderpig.freeze($1, $2, $3::timestamptz)", "/admin" },
	{ "unfreeze", A(f_csrf), 0, "SELECT spiderpig.unfreeze($1)", "/admin" },
	{ "ban", A(f_name_reason), 0,
	  "SELECT spiderpig.ban_user($1, $2, $3)", "/admin" },
	{ "unban", A(f_name), 0, "SELECT spiderpig.unban_user($1, $2)", "/admin" },
	{ "logout", A(f_name), 0, "SELECT spiderpig.logout_user($1, $2)", "/admin" },
	{ "logout-all", A(f_csrf), 0, "SELECT spiderpig.logout_all($1)", "/admin" },
	{ "totp-reset", A(f_name), 0, "SELECT spiderpig.totp_reset($1, $2)", "/admin" },
	{ "move", A(f_move), 0,
	  "SELECT spiderpig.move($1, $2::bigint, $3::int)", "/admin" },
	{ "token-revoke", A(f_token), 0,
	  "SELECT spiderpig.revoke_token($1, $2::bigint)", "/admin" },
};
#undef A

#define ACTION_MAX_FIELDS	4

/* Validate the form of a, run its statement, 303 back. */
static int
action_run(struct req *r, const struct action *a)
{
	struct value	 v[ACTION_MAX_FIELDS];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1], id[32];
	const char	*params[ACTION_MAX_FIELDS + 2];
	size_t		 i;
	int		 n = 0;
	PGresult	*res;

	if (a->nfields > ACTION_MAX_FIELDS) {
		html_message(r, 500, NULL, "Internal error", "action table");
		return 0;
	}
	if (form_read(r, &s, a->fields, a->nfields, v, buf, sizeof(buf),
	    2) != 0)
		return 0;
	params[n++] = s.user;
	if (a->with_id) {
		snprintf(id, sizeof(id), "%lld", r->id);
		params[n++] = id;
	}
	for (i = 1; i < a->nfields; i++)
		params[n++] = v[i].present ? v[i].s : NULL;
	if ((res = req_exec_page(r, a->sql, n, params)) == NULL)
		return 0;
	PQclear(res);
	reply_redirect(r, 303, a->back, NULL);
	return 0;
}

int
page_answer(struct req *r)
{
	return action_run(r, &a_answer);
}

int
page_rollback(struct req *r)
{
	return action_run(r, &a_rollback);
}

int
page_cancel(struct req *r)
{
	return action_run(r, &a_cancel);
}

int
page_token_revoke(struct req *r)
{
	return action_run(r, &a_token_revoke);
}

/* POST /admin/{name}: the admin action of that name. */
int
page_admin_action(struct req *r)
{
	size_t	i;

	for (i = 0; i < NELEM(admin_actions); i++)
		if (strcmp(admin_actions[i].name, r->name) == 0)
			return action_run(r, &admin_actions[i]);
	html_message(r, 404, NULL, "Not found", "No such admin action.");
	return 0;
}

/* ---- POST /ui/deployments ------------------------------------------------- */

/* Pure: 1..PATCHES_MAX patches separated by spaces or commas, each one
 * check_patch accepts. */
static int
check_patch_list(const char *s, const char **why)
{
	char	one[304];
	size_t	len, n = 0;

	for (;;) {
		s += strspn(s, " \t\r\n,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t\r\n,");
		if (len >= sizeof(one) || ++n > PATCHES_MAX) {
			*why = "at most 20 patches of at most 300 bytes";
			return -1;
		}
		memcpy(one, s, len);
		one[len] = '\0';
		if (check_patch(one, why) != 0)
			return -1;
		s += len;
	}
	if (n == 0) {
		*why = "name at least one patch";
		return -1;
	}
	return 0;
}

static const struct field f_deploy[] = {
	{ "csrf",    FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "patches", FT_STRING, 1, 1, 6400, 0, check_patch_list, NULL },
};

/* A checked patch list as a PostgreSQL text[] literal (one parameter;
 * patches hold no quotes or backslashes: check_patch). */
static char *
patch_array(const char *s)
{
	char	*out, *o;
	size_t	 len;

	if ((out = malloc(2 * strlen(s) + 3)) == NULL)
		return NULL;
	o = out;
	*o++ = '{';
	for (;;) {
		s += strspn(s, " \t\r\n,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t\r\n,");
		if (o != out + 1)
			*o++ = ',';
		memcpy(o, s, len);
		o += len;
		s += len;
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

int
page_deploy(struct req *r)
{
	struct value	 v[NELEM(f_deploy)];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1], *arr;
	const char	*params[2];
	PGresult	*res;

	if (form_read(r, &s, f_deploy, NELEM(f_deploy), v, buf, sizeof(buf),
	    2) != 0)
		return 0;
	if ((arr = patch_array(v[1].s)) == NULL) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		return 0;
	}
	params[0] = s.user;
	params[1] = arr;
	res = req_exec_page(r, "SELECT (spiderpig.enqueue($1, $2::text[])).id",
	    2, params);
	free(arr);
	if (res == NULL)
		return 0;
	PQclear(res);
	reply_redirect(r, 303, "/", NULL);
	return 0;
}

/* ---- /tokens -------------------------------------------------------------- */

static void
tokens_body(struct html *h, const struct session *s, const cJSON *list)
{
	const cJSON	*t;

	html_raw(h, "<form method=\"post\" action=\"/tokens\">");
	html_csrf(h, s);
	html_raw(h, "<label>Name <input name=\"name\" maxlength=\"64\" "
	    "required></label> <label>Valid for (days) <input name=\"days\" "
	    "type=\"number\" min=\"1\" max=\"366\" value=\"90\"></label> "
	    "<button>Create</button></form>\n<table><tr><th>ID</th><th>Name"
	    "</th><th>Created</th><th>Expires</th><th>Last used</th>"
	    "<th>Revoked</th><th></th></tr>\n");
	cJSON_ArrayForEach(t, list) {
		html_raw(h, "<tr><td>");
		html_int(h, jint(t, "id"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(t, "name"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(t, "created_at"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(t, "expires_at"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(t, "last_used_at"));
		html_raw(h, "</td><td>");
		html_escape(h, jstr(t, "revoked_at"));
		html_raw(h, "</td><td>");
		if (jstr(t, "revoked_at")[0] == '\0')
			button_form(h, s, "/tokens/", jint(t, "id"), "/revoke",
			    "Revoke");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table>\n");
}

#define SQL_TOKENS \
	"SELECT coalesce(json_agg(t ORDER BY t.id DESC), '[]') FROM " \
	"spiderpig.list_tokens($1) t"

/* The tokens page; with fresh, the token just created, shown once. */
static void
tokens_page(struct req *r, const struct session *s, const char *fresh)
{
	struct html	 h = { 0 };
	cJSON		*list;
	const char	*params[1] = { s->user };

	if ((list = page_json(r, SQL_TOKENS, 1, params)) == NULL)
		return;
	html_begin(&h, "API tokens", s);
	if (fresh != NULL) {
		html_raw(&h, "<p class=\"fresh\">Your new token (shown only "
		    "once): <code class=\"token\">");
		html_escape(&h, fresh);
		html_raw(&h, "</code></p>\n");
	}
	tokens_body(&h, s, list);
	html_end(&h);
	cJSON_Delete(list);
	html_send(r, fresh != NULL ? 201 : 200, NULL, &h);
}

int
page_tokens(struct req *r)
{
	struct session	s;

	if (page_session(r, &s) == 0)
		tokens_page(r, &s, NULL);
	return 0;
}

static const struct field f_token_new[] = {
	{ "csrf", FT_STRING,  1, 1, 128, 0, NULL, NULL },
	{ "name", FT_STRING,  1, 1, 64, 0, check_text, NULL },
	{ "days", FT_INTEGER, 0, 1, 366, 0, NULL, NULL },
};

int
page_token_create(struct req *r)
{
	struct value	 v[NELEM(f_token_new)];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1], *tok;
	const char	*params[3];
	PGresult	*res;

	if (form_read(r, &s, f_token_new, NELEM(f_token_new), v, buf,
	    sizeof(buf), 2) != 0)
		return 0;
	params[0] = s.user;
	params[1] = v[1].s;
	params[2] = v[2].present ? v[2].s : "90";
	if ((res = req_exec_page(r, "SELECT spiderpig.create_token($1, $1, $2, "
	    "make_interval(days => $3::int))", 3, params)) == NULL)
		return 0;
	if ((tok = strdup(PQgetvalue(res, 0, 0))) == NULL)
		html_message(r, 500, NULL, "Internal error", "out of memory");
	else
		tokens_page(r, &s, tok);
	PQclear(res);
	free(tok);
	return 0;
}

/* ---- /admin --------------------------------------------------------------- */

/* One admin form: a POST to /admin/<action> with the given inputs
 * (trusted markup of ours). */
static void
admin_form(struct html *h, const struct session *s, const char *action,
    const char *inputs, const char *label)
{
	html_raw(h, "<form method=\"post\" action=\"/admin/");
	html_raw(h, action);
	html_raw(h, "\">");
	html_csrf(h, s);
	html_raw(h, inputs);
	html_raw(h, " <button>");
	html_escape(h, label);
	html_raw(h, "</button></form>\n");
}

int
page_admin(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc, *u;

	if (page_session(r, &s) != 0)
		return 0;
	if ((doc = page_json(r, "SELECT json_build_object("
	    SQL_FREEZE_AND_QUEUE ", 'users', (SELECT coalesce(json_agg("
	    "json_build_object('name', u.name, 'role', u.role, 'banned', "
	    "u.banned) ORDER BY u.name), '[]') FROM spiderpig.users u))",
	    0, NULL)) == NULL)
		return 0;
	html_begin(&h, "Admin", &s);
	html_raw(&h, "<h3>Freeze</h3>\n");
	freeze_banner(&h, doc);
	admin_form(&h, &s, "freeze", "<label>Reason <input name=\"reason\" "
	    "required></label> <label>Until (RFC 3339, optional) <input "
	    "name=\"until\"></label>", "Freeze");
	admin_form(&h, &s, "unfreeze", "", "Unfreeze");
	html_raw(&h, "<h3>Users</h3>\n<table><tr><th>Name</th><th>Role</th>"
	    "<th>Banned</th></tr>\n");
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(doc, "users")) {
		html_raw(&h, "<tr><td>");
		html_escape(&h, jstr(u, "name"));
		html_raw(&h, "</td><td>");
		html_escape(&h, jstr(u, "role"));
		html_raw(&h, "</td><td>");
		html_raw(&h, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u,
		    "banned")) ? "yes" : "no");
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</table>\n");
	admin_form(&h, &s, "ban", "<label>User <input name=\"name\" required>"
	    "</label> <label>Reason <input name=\"reason\" required></label>",
	    "Ban");
	admin_form(&h, &s, "unban", "<label>User <input name=\"name\" "
	    "required></label>", "Unban");
	admin_form(&h, &s, "logout", "<label>User <input name=\"name\" "
	    "required></label>", "Log out");
	admin_form(&h, &s, "totp-reset", "<label>User <input name=\"name\" "
	    "required></label>", "Reset second factor");
	admin_form(&h, &s, "logout-all", "", "Log out everyone");
	queue_table(&h, doc);
	admin_form(&h, &s, "move", "<label>Deployment <input name=\"deployment\" "
	    "type=\"number\" min=\"1\" required></label> <label>New position "
	    "<input name=\"position\" type=\"number\" min=\"1\" required>"
	    "</label>", "Move");
	admin_form(&h, &s, "token-revoke", "<label>Token ID <input "
	    "name=\"token\" type=\"number\" min=\"1\" required></label>",
	    "Revoke token");
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}
