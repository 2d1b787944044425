/* action_run.c: serving an action of action_table.c, as JSON for the API
 * or as a page form answered with 303. Both validate with the row's
 * fields, call the row's statement with the same parameters and so get the
 * same refusals from SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "json.h"

/* The parameters of one call: $1 the actor, then one per field. */
struct action_call {
	const char	*params[ACTION_FIELDS + 1];
	char		 num[ACTION_FIELDS][24];
	char		*arrays[ACTION_FIELDS];	/* owned text[] literals */
	int		 n;
};

/* 1 when a's subject comes from r's path ({id} or {name}). */
static int
subject_in_path(const struct req *r, const struct action *a)
{
	return a->subject && (r->id > 0 || r->name != NULL);
}

static void
call_free(struct action_call *c)
{
	size_t	i;

	for (i = 0; i < ACTION_FIELDS; i++)
		free(c->arrays[i]);
}

/*
 * Fill c for a: the actor, the subject from the path when it is there,
 * then the validated values v (one per field after the path's subject).
 * Returns 0, or -1 when memory ran out (c is still call_free()d).
 */
static int
call_fill(struct action_call *c, const struct req *r, const struct action *a,
    const struct value *v)
{
	const struct field	*f;
	size_t			 i, k = 0;

	memset(c, 0, sizeof(*c));
	c->params[c->n++] = r->user;
	for (i = 0; i < a->nfields; i++) {
		f = &a->fields[i];
		if (i == 0 && subject_in_path(r, a)) {
			snprintf(c->num[i], sizeof(c->num[i]), "%lld", r->id);
			c->params[c->n++] = r->name != NULL ? r->name : c->num[i];
			continue;
		}
		if (!v[k].present)
			c->params[c->n] = NULL;
		else if (f->type == FT_INTEGER) {
			snprintf(c->num[i], sizeof(c->num[i]), "%lld", v[k].i);
			c->params[c->n] = c->num[i];
		} else if (f->type == FT_BOOL)
			c->params[c->n] = v[k].i ? "true" : "false";
		else if (f->type == FT_STRINGS) {
			if ((c->arrays[i] = value_pg_array(&v[k])) == NULL)
				return -1;
			c->params[c->n] = c->arrays[i];
		} else
			c->params[c->n] = v[k].s;
		c->n++;
		k++;
	}
	return 0;
}

/* The fields the body carries: all but a subject the path gives. */
static const struct field *
body_fields(const struct req *r, const struct action *a, size_t *n)
{
	if (subject_in_path(r, a)) {
		*n = a->nfields - 1;
		return a->fields + 1;
	}
	*n = a->nfields;
	return a->fields;
}

/* Answer the API call's JSON value: 201 with Location for a created
 * deployment, 404 when the statement found nothing, else 200. */
static void
api_answer(struct req *r, const struct action *a, const cJSON *doc)
{
	const cJSON	*id;
	char		 loc[64];

	if (doc == NULL || cJSON_IsNull(doc)) {
		if (r->id > 0)
			reply_problem(r, 404, NULL, "no deployment %lld", r->id);
		else
			reply_problem(r, 500, NULL, "internal error: no answer");
		return;
	}
	if (!a->created) {
		reply_json(r, 200, doc, NULL);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	if (!cJSON_IsNumber(id)) {
		reply_problem(r, 500, NULL, "internal error: no deployment");
		return;
	}
	snprintf(loc, sizeof(loc), "/api/v1/deployments/%.0f", id->valuedouble);
	reply_json(r, 201, doc, loc);
}

/*
 * Tell the database where the request came from (REMOTE_ADDR, nginx's
 * real client address) for the events row the action writes, or forget
 * it (addr NULL) so that no later statement on this connection inherits
 * it. Best effort: a failure here only loses the address.
 */
static void
note_address(struct req *r, const char *addr)
{
	const char	*params[1] = { addr != NULL ? addr : "" };
	PGconn		*c;
	PGresult	*err = NULL;

	if ((c = req_db(r)) == NULL)
		return;
	PQclear(db_exec(c, "SELECT set_config('spiderpig.client_addr', $1, "
	    "false)", 1, params, &err));
	PQclear(err);
}

/* Run the action's statement with the client's address noted. */
static PGresult *
run_noted(struct req *r, const struct action_call *c, PGresult **errp)
{
	PGconn		*conn;
	PGresult	*res;

	*errp = NULL;
	note_address(r, FCGX_GetParam("REMOTE_ADDR", r->fcgx->envp));
	if ((conn = req_db(r)) == NULL)
		return NULL;
	res = db_exec(conn, r->action->sql, c->n, c->params, errp);
	note_address(r, NULL);
	return res;
}

int
action_api(struct req *r)
{
	const struct action	*a = r->action;
	const struct field	*fields;
	struct value		 v[ACTION_FIELDS];
	struct action_call	 c;
	struct verr		 ve;
	cJSON			*root = NULL, *doc = NULL;
	PGresult		*res = NULL, *err = NULL;
	size_t			 n;

	memset(&c, 0, sizeof(c));
	fields = body_fields(r, a, &n);
	if (validate_json(r->body, r->bodylen, fields, n, v, &root,
	    &ve) != 0) {
		reply_invalid(r, &ve);
		goto out;
	}
	if (call_fill(&c, r, a, v) != 0) {
		reply_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	if ((res = run_noted(r, &c, &err)) == NULL) {
		reply_db_error(r, err);
		goto out;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    (doc = json_from_pg(res, 0, 0)) == NULL) {
		reply_problem(r, 500, NULL, "internal error: bad JSON");
		goto out;
	}
	api_answer(r, a, doc);
out:
	PQclear(res);
	PQclear(err);
	call_free(&c);
	cJSON_Delete(doc);
	cJSON_Delete(root);
	return 0;
}

/* The fields a page form adds to an action's: the csrf token, the "yes,
 * I am sure" of a confirmation step, and the page to go back to. */
static const struct field form_extra[] = {
	{ .name = "csrf", .type = FT_STRING, .required = 1, .min = 1,
	  .max = 128 },
	{ .name = "confirm", .type = FT_BOOL, .min = 0, .max = 1 },
	{ .name = "back", .type = FT_STRING, .min = 1, .max = 400,
	  .check = check_return_to },
};
enum { X_CSRF, X_CONFIRM, X_BACK, X_COUNT };

#define FORM_FIELDS	(X_COUNT + ACTION_FIELDS)

/* The raw (decoded, unvalidated) value of key in p[0..n), or NULL. */
static const char *
raw_value(const struct http_param *p, int n, const char *key)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			return p[i].val;
	return NULL;
}

/* 1 when a problem's field ("patches[1]") names field name. */
static int
field_is(const char *field, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(field, name, n) == 0 &&
	    (field[n] == '\0' || field[n] == '[');
}

/* Where the form goes back to: its own "back" when valid, else the
 * route's. */
static const char *
form_back(const struct req *r, const struct http_param *p, int n)
{
	const char	*b = raw_value(p, n, "back"), *why;

	if (b != NULL && check_return_to(b, &why) == 0)
		return b;
	return r->route->back != NULL ? r->route->back : "/";
}

/* What a's form acts on, for the page's words: the path's {name} or
 * {id} (formatted into num), else the form's first field. */
static const char *
form_subject(const struct req *r, const struct action *a,
    const struct http_param *p, int np, char *num, size_t numsz)
{
	if (!a->subject)
		return NULL;
	if (r->name != NULL)
		return r->name;
	if (r->id > 0) {
		snprintf(num, numsz, "%lld", r->id);
		return num;
	}
	return raw_value(p, np, a->fields[0].name);
}

/* Every problem of ve as a list at the top of the form. */
static void
errors_list(struct html *h, const struct verr *ve)
{
	size_t	k;

	if (ve == NULL || ve->n == 0)
		return;
	html_raw(h, "<div class=\"errors\" role=\"alert\"><p>Please correct "
	    "this:</p><ul>");
	for (k = 0; k < ve->n; k++) {
		html_raw(h, "<li>");
		html_escape(h, ve->e[k].detail);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul></div>\n");
}

/* "Ban alice? This cannot be undone." or, for an answer that rolls back,
 * "Answer rollback for deployment 4? This rolls the deployment back." */
static void
confirm_question(struct html *h, const struct req *r, const struct action *a,
    const char *subject, const char *answer)
{
	int	deployment = r->id > 0 || (a->nfields > 0 &&
	    a->fields[0].type == FT_INTEGER);

	html_raw(h, "<p class=\"confirm\">");
	if (answer != NULL) {
		html_raw(h, "Answer <strong>");
		html_escape(h, answer);
		html_raw(h, "</strong>");
	} else
		html_escape(h, a->label);
	if (subject != NULL && subject[0] != '\0') {
		html_raw(h, answer != NULL ? " for " : " ");
		if (deployment)
			html_raw(h, "deployment ");
		html_escape(h, subject);
	}
	html_raw(h, answer != NULL ? "? This rolls the deployment back.</p>\n" :
	    "? This cannot be undone.</p>\n");
}

/* The problem in ve about field name, or NULL. */
static const char *
field_error(const struct verr *ve, const char *name)
{
	size_t	k;

	for (k = 0; ve != NULL && k < ve->n; k++)
		if (field_is(ve->e[k].field, name))
			return ve->e[k].detail;
	return NULL;
}

/* The body fields as inputs, values kept; on a confirmation step what is
 * already chosen (the subject, a prompt and its answer) rides hidden. */
static void
form_inputs(struct html *h, const struct action *a, const struct field *fields,
    size_t n, const struct http_param *p, int np, const struct verr *ve,
    int confirm)
{
	const char	*val, *err;
	size_t		 i;

	for (i = 0; i < n; i++) {
		val = raw_value(p, np, fields[i].name);
		err = field_error(ve, fields[i].name);
		if (confirm && err == NULL && val != NULL && val[0] != '\0' &&
		    (&fields[i] == &a->fields[0] ||
		    strcmp(fields[i].name, "prompt") == 0 ||
		    strcmp(fields[i].name, "answer") == 0)) {
			html_raw(h, "<input type=\"hidden\" name=\"");
			html_escape(h, fields[i].name);
			html_raw(h, "\" value=\"");
			html_escape(h, val);
			html_raw(h, "\">");
			continue;
		}
		page_field_input(h, &fields[i],
		    a->labels[(size_t)(&fields[i] - a->fields)], val, err);
	}
}

/* The submit button (on a confirmation step it says what it will do) and
 * the way back. */
static void
form_buttons(struct html *h, const struct action *a, const char *subject,
    const char *answer, const char *back, int confirm)
{
	html_raw(h, confirm ? "<div class=\"buttons\"><button class=\"danger\">"
	    : "<div class=\"buttons\"><button>");
	if (confirm && answer != NULL) {
		html_raw(h, "Yes, answer ");
		html_escape(h, answer);
	} else {
		html_raw(h, confirm ? "Yes, " : "");
		html_escape(h, a->label);
		if (confirm && subject != NULL) {
			html_raw(h, " ");
			html_escape(h, subject);
		}
	}
	html_raw(h, "</button> <a href=\"");
	html_escape(h, back);
	html_raw(h, "\">Cancel, go back</a></div></form>\n");
}

/*
 * The action's form again as a page of its own: as a confirmation step
 * (confirm: what it will act on, and one button that says so) or with
 * the problems in ve next to the fields they concern, the input kept.
 */
static void
form_page(struct req *r, const struct session *s, const struct action *a,
    const struct http_param *p, int np, const struct verr *ve, int confirm,
    int status)
{
	struct html		 h = { 0 };
	const struct field	*fields;
	const char		*subject, *back, *answer;
	char			 title[160], num[24];
	size_t			 n;

	fields = body_fields(r, a, &n);
	back = form_back(r, p, np);
	answer = raw_value(p, np, "answer");
	subject = form_subject(r, a, p, np, num, sizeof(num));
	snprintf(title, sizeof(title), "%s%s", confirm ? "Confirm: " : "",
	    a->label);
	html_begin(&h, title, s);
	errors_list(&h, ve);
	if (confirm)
		confirm_question(&h, r, a, subject, answer);
	html_raw(&h, "<form method=\"post\" action=\"");
	html_escape(&h, r->path);
	html_raw(&h, "\">");
	html_csrf(&h, s);
	html_raw(&h, "<input type=\"hidden\" name=\"back\" value=\"");
	html_escape(&h, back);
	html_raw(&h, "\">");
	if (confirm || action_needs_confirm(a, answer))
		html_raw(&h, "<input type=\"hidden\" name=\"confirm\" "
		    "value=\"1\">");
	form_inputs(&h, a, fields, n, p, np, ve, confirm);
	form_buttons(&h, a, subject, answer, back, confirm);
	html_end(&h);
	html_send(r, status, NULL, &h);
}

/* The 303 back with the flash cookie saying what was done. */
static void
form_done(struct req *r, const struct action *a, const char *back,
    const char *subject)
{
	char	hdr[400];

	if (subject != NULL && flash_subject_ok(subject))
		snprintf(hdr, sizeof(hdr), "Set-Cookie: " FLASH_COOKIE
		    "=%s.%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=300\r\n", a->name, subject);
	else
		snprintf(hdr, sizeof(hdr), "Set-Cookie: " FLASH_COOKIE
		    "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=300\r\n", a->name);
	reply_redirect(r, 303, back, hdr);
}

/* A refusal from SQL on a page form: a 4xx shows the form again with the
 * message (next to its field, when SQL names one); anything else is an
 * error page. */
static void
form_refused(struct req *r, const struct session *s, const struct action *a,
    const struct http_param *p, int np, const PGresult *err)
{
	struct verr	 ve;
	const char	*msg, *col;
	int		 status = db_error_status(err);

	if (status < 400 || status > 499) {
		html_db_error(r, err);
		return;
	}
	memset(&ve, 0, sizeof(ve));
	msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);
	col = PQresultErrorField(err, PG_DIAG_COLUMN_NAME);
	verr_add(&ve, col != NULL ? col : "", "%s", msg != NULL ? msg :
	    "refused");
	form_page(r, s, a, p, np, &ve, 0, status);
}

int
action_form(struct req *r)
{
	const struct action	*a = r->action;
	const struct field	*fields;
	struct field		 all[FORM_FIELDS];
	struct value		 v[FORM_FIELDS];
	struct http_param	 p[HTTP_FORM_PARAMS];
	struct action_call	 c;
	struct session		 s;
	struct verr		 ve;
	char			 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	char			 rawbuf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	const char		*subject;
	PGresult		*res = NULL, *err = NULL;
	size_t			 n;
	int			 np, rc;

	memset(&c, 0, sizeof(c));
	fields = body_fields(r, a, &n);
	if (page_form_open(r, &s, p, &np, rawbuf, sizeof(rawbuf)) != 0)
		goto out;
	memcpy(all, form_extra, sizeof(form_extra));
	if (n > 0)
		memcpy(all + X_COUNT, fields, n * sizeof(*fields));
	rc = validate_form(r->body, r->bodylen, all, X_COUNT + n, v, buf,
	    sizeof(buf), &ve);
	if (action_needs_confirm(a, raw_value(p, np, "answer")) &&
	    (rc != 0 || !v[X_CONFIRM].present || !v[X_CONFIRM].i)) {
		form_page(r, &s, a, p, np, rc != 0 &&
		    raw_value(p, np, "confirm") != NULL ? &ve : NULL, 1,
		    rc != 0 && raw_value(p, np, "confirm") != NULL ? 400 : 200);
		goto out;
	}
	if (rc != 0) {
		form_page(r, &s, a, p, np, &ve, 0, ve.status != 0 ?
		    ve.status : 400);
		goto out;
	}
	if (call_fill(&c, r, a, v + X_COUNT) != 0) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		goto out;
	}
	if ((res = run_noted(r, &c, &err)) == NULL) {
		if (err == NULL)
			html_db_error(r, NULL);
		else
			form_refused(r, &s, a, p, np, err);
		goto out;
	}
	subject = a->subject ? c.params[1] : NULL;
	form_done(r, a, form_back(r, p, np), subject);
out:
	PQclear(res);
	PQclear(err);
	call_free(&c);
	return 0;
}
