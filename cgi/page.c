/* page.c: what the HTML pages share: the session check, the first step
 * of a page form (session, csrf), forms, inputs and answer buttons drawn
 * from the action table, the flash, and the freeze banner. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"
#include "json.h"

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
page_form_open(struct req *r, struct session *s, struct http_param *p,
    int *np, char *buf, size_t bufsz)
{
	const char	*why, *csrf = NULL;
	int		 rc, i;

	if ((rc = session_load(r, s)) < 0)
		return -1;
	if (rc == 0 || s->aal != 2 || r->user == NULL ||
	    strcmp(r->user, s->user) != 0) {
		html_message(r, 403, NULL, "Forbidden", "This form needs the "
		    "session it was shown in; sign in again.");
		return -1;
	}
	*np = http_form_parse(r->body != NULL ? r->body : "", r->bodylen, p,
	    HTTP_FORM_PARAMS, buf, bufsz, &why);
	for (i = 0; i < *np; i++)
		if (strcmp(p[i].key, "csrf") == 0)
			csrf = p[i].val;
	if (*np < 0 || !session_csrf_ok(s, csrf)) {
		html_message(r, 403, NULL, "Forbidden", "The form's csrf token "
		    "is missing or wrong.");
		return -1;
	}
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

void
page_field_input(struct html *h, const struct field *f, const char *label,
    const char *value, const char *error)
{
	html_raw(h, "<label class=\"field\"><span>");
	html_escape(h, label != NULL ? label : f->name);
	html_raw(h, "</span> <input name=\"");
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
	if (value != NULL) {
		html_raw(h, " value=\"");
		html_escape(h, value);
		html_raw(h, "\"");
	}
	if (error != NULL) {
		html_raw(h, " aria-invalid=\"true\" aria-describedby=\"err-");
		html_escape(h, f->name);
		html_raw(h, "\"></label><span class=\"field-error\" id=\"err-");
		html_escape(h, f->name);
		html_raw(h, "\">");
		html_escape(h, error);
		html_raw(h, "</span> ");
		return;
	}
	html_raw(h, "></label> ");
}

int
flash_subject_ok(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return n > 0 && n <= 128;
}

void
page_begin(struct req *r, struct html *h, const char *title,
    const struct session *s, char *token, size_t toksz)
{
	const struct action	*a;
	const char		*v;
	char			 val[200], *dot;
	size_t			 len;

	if (token != NULL && toksz > 0)
		token[0] = '\0';
	v = http_cookie_get(FCGX_GetParam("HTTP_COOKIE", r->fcgx->envp),
	    FLASH_COOKIE, &len);
	if (v != NULL && len > 0 && len < sizeof(val)) {
		memcpy(val, v, len);
		val[len] = '\0';
		h->clear_flash = 1;
		dot = strchr(val, '.');
		if (dot != NULL)
			*dot++ = '\0';
		if (strcmp(val, "token") == 0 && dot != NULL && token != NULL &&
		    strlen(dot) < toksz && http_header_safe(dot))
			snprintf(token, toksz, "%s", dot);
		else if ((a = action_find(val)) != NULL &&
		    (dot == NULL || flash_subject_ok(dot))) {
			snprintf(h->flashbuf, sizeof(h->flashbuf), "%s%s%s%s.",
			    a->done, dot != NULL ? ": " : "",
			    dot != NULL && a->fields != NULL &&
			    a->fields[0].type == FT_INTEGER ? "#" : "",
			    dot != NULL ? dot : "");
			h->flash = h->flashbuf;
		}
	}
	html_begin(h, title, s);
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
		page_field_input(h, &a->fields[i], a->labels[i], NULL, NULL);
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
page_button_named(struct html *h, const struct session *s, const char *prefix,
    long long id, const char *suffix, const char *label, const char *what)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"");
	html_escape(h, prefix);
	html_int(h, id);
	html_escape(h, suffix);
	html_raw(h, "\">");
	html_csrf(h, s);
	html_raw(h, "<button aria-label=\"");
	html_escape(h, label);
	html_raw(h, " ");
	html_escape(h, what);
	html_raw(h, "\">");
	html_escape(h, label);
	html_raw(h, "</button></form>");
}

/* What a person reads on an answer's button. */
static const char *
choice_label(const char *c)
{
	static const struct { const char *choice, *label; } labels[] = {
		{ "yes", "Yes" }, { "no", "No" }, { "finish", "Finish" },
		{ "rollback", "Roll back" }, { "ack", "Acknowledge" },
	};
	size_t	i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].choice, c) == 0)
			return labels[i].label;
	return c;
}

/* The start of a form answering prompt of deployment id, back to back
 * ("deployment": the deployment's own page). */
static void
answer_form(struct html *h, const struct session *s, long long id,
    long long prompt, const char *back)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" "
	    "action=\"/ui/deployments/");
	html_int(h, id);
	html_raw(h, "/answer\">");
	html_csrf(h, s);
	html_raw(h, "<input type=\"hidden\" name=\"prompt\" value=\"");
	html_int(h, prompt);
	html_raw(h, "\"><input type=\"hidden\" name=\"back\" value=\"");
	if (strcmp(back, "deployment") == 0) {
		html_raw(h, "/deployments/");
		html_int(h, id);
	} else
		html_escape(h, back);
	html_raw(h, "\">");
}

void
page_answer_button(struct html *h, const struct session *s, long long id,
    long long prompt, const char *choice, const char *label,
    const char *back)
{
	if (label == NULL)
		label = choice_label(choice);
	answer_form(h, s, id, prompt, back);
	html_raw(h, "<input type=\"hidden\" name=\"answer\" value=\"");
	html_escape(h, choice);
	html_raw(h, "\"><button");
	if (strcmp(choice, "rollback") == 0 || strcmp(choice, "no") == 0)
		html_raw(h, " class=\"danger\"");
	html_raw(h, " aria-label=\"");
	html_escape(h, label);
	html_raw(h, ": answer ");
	html_escape(h, choice);
	html_raw(h, " for deployment ");
	html_int(h, id);
	html_raw(h, "\">");
	html_escape(h, label);
	html_raw(h, "</button></form> ");
}

void
page_prompt_answers(struct html *h, const struct session *s, long long id,
    const cJSON *p, const char *back)
{
	const cJSON	*c, *l, *labels;
	int		 i = 0;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "free_text"))) {
		answer_form(h, s, id, page_int(p, "id"), back);
		html_raw(h, "<label class=\"field\"><span>Your answer</span> "
		    "<input name=\"answer\" maxlength=\"500\" required></label> "
		    "<button>Answer</button></form>");
		return;
	}
	labels = cJSON_GetObjectItemCaseSensitive(p, "labels");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "choices")) {
		l = cJSON_GetArrayItem(labels, i++);
		if (cJSON_IsString(c))
			page_answer_button(h, s, id, page_int(p, "id"),
			    c->valuestring, cJSON_IsString(l) ?
			    l->valuestring : NULL, back);
	}
}

void
page_freeze_banner(struct html *h, const cJSON *doc)
{
	const cJSON	*fr = cJSON_GetObjectItemCaseSensitive(doc, "freeze");

	if (!cJSON_IsObject(fr))
		return;
	html_raw(h, "<p class=\"freeze\" role=\"status\"><strong>"
	    "Deployments are frozen</strong> by ");
	html_escape(h, page_str(fr, "by"));
	html_raw(h, ": ");
	html_escape(h, page_str(fr, "reason"));
	if (page_str(fr, "until")[0] != '\0') {
		html_raw(h, " (until ");
		html_time(h, page_str(fr, "until"));
		html_raw(h, ")");
	} else
		html_raw(h, " (until unfrozen)");
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
		html_raw(h, " <progress max=\"100\" aria-label=\"Progress\" "
		    "value=\"");
		html_int(h, page_int(d, "progress"));
		html_raw(h, "\"></progress>");
	}
}
