/* page.c: what the HTML pages share: the session check, the form path
 * that adds the csrf field, forms drawn from the action table, and the
 * freeze banner and queue table two pages show. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "json.h"

/* The form field every page form carries; fields[0] for form_read(). */
static const struct field csrf_field = {
	.name = "csrf", .type = FT_STRING, .required = 1, .min = 1, .max = 128,
};

#define PAGE_FORM_FIELDS	8

int
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

int
page_form_read(struct req *r, struct session *s, const struct field *fields,
    size_t nfields, struct value *vals, char *buf, size_t bufsz)
{
	struct field	all[PAGE_FORM_FIELDS + 1];
	struct value	got[PAGE_FORM_FIELDS + 1];

	if (nfields > PAGE_FORM_FIELDS) {
		html_message(r, 500, NULL, "Internal error", "form table");
		return -1;
	}
	all[0] = csrf_field;
	if (nfields > 0)
		memcpy(all + 1, fields, nfields * sizeof(*fields));
	if (form_read(r, s, all, nfields + 1, got, buf, bufsz, 2) != 0)
		return -1;
	if (nfields > 0)
		memcpy(vals, got + 1, nfields * sizeof(*vals));
	return 0;
}

cJSON *
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

const char *
page_str(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

long long
page_int(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* One labelled input for field f. */
static void
field_input(struct html *h, const struct field *f, const char *label)
{
	html_raw(h, "<label>");
	html_escape(h, label != NULL ? label : f->name);
	html_raw(h, " <input name=\"");
	html_escape(h, f->name);
	html_raw(h, "\"");
	if (f->type == FT_INTEGER) {
		html_raw(h, " type=\"number\" min=\"");
		html_int(h, f->min);
		html_raw(h, "\"");
	} else if (f->type == FT_STRING) {
		html_raw(h, " maxlength=\"");
		html_int(h, f->max);
		html_raw(h, "\"");
	} else
		html_raw(h, " size=\"60\"");
	if (f->required)
		html_raw(h, " required");
	html_raw(h, "></label> ");
}

void
page_action_form(struct html *h, const struct session *s,
    const struct action *a, const char *path, int with_subject)
{
	size_t	i;

	html_raw(h, "<form method=\"post\" action=\"");
	html_escape(h, path);
	html_raw(h, "\">");
	html_csrf(h, s);
	for (i = a->subject && !with_subject ? 1 : 0; i < a->nfields; i++)
		field_input(h, &a->fields[i], a->labels[i]);
	html_raw(h, "<button>");
	html_escape(h, a->label);
	html_raw(h, "</button></form>\n");
}

void
page_button(struct html *h, const struct session *s, const char *prefix,
    long long id, const char *suffix, const char *label)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"");
	html_escape(h, prefix);
	html_int(h, id);
	html_escape(h, suffix);
	html_raw(h, "\">");
	html_csrf(h, s);
	html_raw(h, "<button>");
	html_escape(h, label);
	html_raw(h, "</button></form>");
}

void
page_freeze_banner(struct html *h, const cJSON *doc)
{
	const cJSON	*fr = cJSON_GetObjectItemCaseSensitive(doc, "freeze");

	if (!cJSON_IsObject(fr))
		return;
	html_raw(h, "<p class=\"freeze\">Deployments are frozen by ");
	html_escape(h, page_str(fr, "by"));
	html_raw(h, ": ");
	html_escape(h, page_str(fr, "reason"));
	if (page_str(fr, "until")[0] != '\0') {
		html_raw(h, " (until ");
		html_escape(h, page_str(fr, "until"));
		html_raw(h, ")");
	}
	html_raw(h, "</p>\n");
}

void
page_patches(struct html *h, const cJSON *d)
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

void
page_state(struct html *h, const cJSON *d)
{
	html_raw(h, "<span class=\"state\" title=\"");
	html_escape(h, page_str(d, "state"));
	html_raw(h, "\">");
	html_escape(h, page_str(d, "state_label")[0] != '\0' ?
	    page_str(d, "state_label") : page_str(d, "state"));
	html_raw(h, "</span>");
	/* scap mode: what scap says it is doing, and how far it is. */
	if (page_str(d, "status_text")[0] != '\0') {
		html_raw(h, "<br><span class=\"status\">");
		html_escape(h, page_str(d, "status_text"));
		html_raw(h, "</span>");
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "progress"))) {
		html_raw(h, " <progress max=\"100\" value=\"");
		html_int(h, page_int(d, "progress"));
		html_raw(h, "\"></progress>");
	}
}

void
page_queue_table(struct html *h, const cJSON *doc)
{
	const cJSON	*d;
	long long	 shown = 0;

	html_raw(h, "<h3>Queue</h3>\n<table><tr><th>Position</th><th>ID</th>"
	    "<th>State</th><th>Requester</th><th>Patches</th></tr>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "queue")) {
		html_raw(h, "<tr><td>");
		if (page_int(d, "position") > 0)
			html_int(h, page_int(d, "position"));
		else
			html_raw(h, "active");
		html_raw(h, "</td><td>");
		html_int(h, page_int(d, "id"));
		html_raw(h, "</td><td>");
		page_state(h, d);
		html_raw(h, "</td><td>");
		html_escape(h, page_str(d, "requester"));
		html_raw(h, "</td><td>");
		page_patches(h, d);
		html_raw(h, "</td></tr>\n");
		shown++;
	}
	html_raw(h, "</table>\n");
	if (page_int(doc, "queue_length") > shown) {
		html_raw(h, "<p>and ");
		html_int(h, page_int(doc, "queue_length") - shown);
		html_raw(h, " more.</p>\n");
	}
}
