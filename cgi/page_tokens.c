/* page_tokens.c: GET /tokens and POST /tokens, the user's API tokens:
 * create (POST, then 303 back: the new token rides in the one-time flash
 * cookie and is shown once, so a reload creates nothing), list, and revoke
 * (the token-revoke action's /tokens/{id}/revoke route). */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <stdio.h>

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
		if (i == 0)
			html_escape(h, page_str(t, cols[i]));
		else
			html_time(h, page_str(t, cols[i]));
	}
	html_raw(h, "</td><td>");
	if (page_str(t, "revoked_at")[0] == '\0')
		page_button_named(h, s, "/tokens/", page_int(t, "id"),
		    "/revoke", "Revoke", page_str(t, "name"));
	html_raw(h, "</td></tr>\n");
}

/* The tokens page; a token the flash carries is shown once. With
 * error, the create form shows it next to the name, name kept. */
static void
tokens_page(struct req *r, const struct session *s, const char *name,
    const char *error, int status)
{
	struct html	 h = { 0 };
	cJSON		*list, *t;
	const char	*params[1] = { r->user };
	char		 fresh[160];
	const struct field	*f = &token_new_fields[0];

	if ((list = page_json(r, "SELECT coalesce(json_agg(t ORDER BY t.id "
	    "DESC), '[]') FROM spiderpig.list_tokens($1) t", 1,
	    params)) == NULL)
		return;
	page_begin(r, &h, "API tokens", s, fresh, sizeof(fresh));
	if (fresh[0] != '\0') {
		html_raw(&h, "<p class=\"fresh\" role=\"status\">Your new "
		    "token (shown only once; copy it now): <code "
		    "class=\"token\">");
		html_escape(&h, fresh);
		html_raw(&h, "</code></p>\n");
	}
	html_raw(&h, "<h2>New token</h2>\n<form method=\"post\" "
	    "action=\"/tokens\">");
	html_csrf(&h, s);
	page_field_input(&h, f, "Name", name, error);
	html_raw(&h, "<label class=\"field\"><span>Valid for (days)</span> "
	    "<input name=\"days\" type=\"number\" min=\"1\" max=\"366\" "
	    "value=\"90\"></label> <button>Create</button></form>\n"
	    "<h2>Your tokens</h2>\n<div class=\"scroll\"><table><thead><tr>"
	    "<th scope=\"col\">ID</th><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Created</th><th scope=\"col\">Expires</th>"
	    "<th scope=\"col\">Last used</th><th scope=\"col\">Revoked</th>"
	    "<th scope=\"col\">Actions</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(t, list)
		token_row(&h, s, t);
	html_raw(&h, "</tbody></table></div>\n");
	html_end(&h);
	cJSON_Delete(list);
	html_send(r, status, NULL, &h);
}

int
page_tokens(struct req *r)
{
	struct session	s;

	if (page_session(r, &s) == 0)
		tokens_page(r, &s, NULL, NULL, 200);
	return 0;
}

/* POST /tokens: a new token for the user, then 303 to /tokens, which
 * shows it once from the flash cookie. A bad name shows the form again
 * with the problem and the name kept. */
int
page_token_create(struct req *r)
{
	struct value	 v[NELEM(token_new_fields) + 1];
	struct field	 all[NELEM(token_new_fields) + 1];
	struct session	 s;
	struct verr	 ve;
	struct http_param p[HTTP_FORM_PARAMS];
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	char		 raw[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1], hdr[300];
	const char	*params[3], *name = NULL, *tok;
	PGresult	*res;
	int		 np, i;

	if (page_form_open(r, &s, p, &np, raw, sizeof(raw)) != 0)
		return 0;
	for (i = 0; i < np; i++)
		if (strcmp(p[i].key, "name") == 0)
			name = p[i].val;
	all[0] = (struct field){ .name = "csrf", .type = FT_STRING,
	    .required = 1, .min = 1, .max = 128 };
	memcpy(all + 1, token_new_fields, sizeof(token_new_fields));
	if (validate_form(r->body, r->bodylen, all, NELEM(all), v, buf,
	    sizeof(buf), &ve) != 0) {
		tokens_page(r, &s, name, ve.n > 0 ? ve.e[0].detail :
		    "invalid", 400);
		return 0;
	}
	params[0] = r->user;
	params[1] = v[1].s;
	params[2] = v[2].present ? v[2].s : "90";
	if ((res = req_exec_page(r, "SELECT spiderpig.create_token($1, $1, $2, "
	    "make_interval(days => $3::int))", 3, params)) == NULL)
		return 0;
	tok = PQgetvalue(res, 0, 0);
	if (!http_header_safe(tok) || (size_t)snprintf(hdr, sizeof(hdr),
	    "Set-Cookie: " FLASH_COOKIE "=token.%s; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=300\r\n", tok) >= sizeof(hdr))
		html_message(r, 500, NULL, "Internal error", "token");
	else
		reply_redirect(r, 303, "/tokens", hdr);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	PQclear(res);
	return 0;
}
