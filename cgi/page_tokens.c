/* page_tokens.c: GET /tokens and POST /tokens, the user's API tokens:
 * create (the token is shown once), list, and revoke (the token-revoke
 * action's /tokens/{id}/revoke route). */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct field token_new_fields[] = {
	{ .name = "name", .type = FT_STRING, .required = 1, .min = 1,
	  .max = 64, .check = check_text },
	{ .name = "days", .type = FT_INTEGER, .min = 1, .max = 366 },
};

/* One row of the token list. */
static void
token_row(struct html *h, const struct session *s, const cJSON *t)
{
	static const char *const cols[] = { "name", "created_at",
	    "expires_at", "last_used_at", "revoked_at" };
	size_t	i;

	html_raw(h, "<tr><td>");
	html_int(h, page_int(t, "id"));
	for (i = 0; i < NELEM(cols); i++) {
		html_raw(h, "</td><td>");
		html_escape(h, page_str(t, cols[i]));
	}
	html_raw(h, "</td><td>");
	if (page_str(t, "revoked_at")[0] == '\0')
		page_button(h, s, "/tokens/", page_int(t, "id"), "/revoke",
		    "Revoke");
	html_raw(h, "</td></tr>\n");
}

/* The tokens page; with fresh, the token just created, shown once. */
static void
tokens_page(struct req *r, const struct session *s, const char *fresh)
{
	struct html	 h = { 0 };
	cJSON		*list, *t;
	const char	*params[1] = { r->user };

	if ((list = page_json(r, "SELECT coalesce(json_agg(t ORDER BY t.id "
	    "DESC), '[]') FROM spiderpig.list_tokens($1) t", 1,
	    params)) == NULL)
		return;
	html_begin(&h, "API tokens", s);
	if (fresh != NULL) {
		html_raw(&h, "<p class=\"fresh\">Your new token (shown only "
		    "once): <code class=\"token\">");
		html_escape(&h, fresh);
		html_raw(&h, "</code></p>\n");
	}
	html_raw(&h, "<form method=\"post\" action=\"/tokens\">");
	html_csrf(&h, s);
	html_raw(&h, "<label>Name <input name=\"name\" maxlength=\"64\" "
	    "required></label> <label>Valid for (days) <input name=\"days\" "
	    "type=\"number\" min=\"1\" max=\"366\" value=\"90\"></label> "
	    "<button>Create</button></form>\n<table><tr><th>ID</th><th>Name"
	    "</th><th>Created</th><th>Expires</th><th>Last used</th>"
	    "<th>Revoked</th><th></th></tr>\n");
	cJSON_ArrayForEach(t, list)
		token_row(&h, s, t);
	html_raw(&h, "</table>\n");
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

/* POST /tokens: a new token for the user, shown once on the page. */
int
page_token_create(struct req *r)
{
	struct value	 v[NELEM(token_new_fields)];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1], *tok;
	const char	*params[3];
	PGresult	*res;

	if (page_form_read(r, &s, token_new_fields, NELEM(token_new_fields),
	    v, buf, sizeof(buf)) != 0)
		return 0;
	params[0] = r->user;
	params[1] = v[0].s;
	params[2] = v[1].present ? v[1].s : "90";
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
