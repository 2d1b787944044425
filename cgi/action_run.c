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
#include "http.h"

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

int
action_api(struct req *r)
{
	const struct action	*a = r->action;
	const struct field	*fields;
	struct value		 v[ACTION_FIELDS];
	struct action_call	 c;
	struct verr		 ve;
	cJSON			*root = NULL, *doc = NULL;
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
	if (req_query_json(r, a->sql, c.n, c.params, &doc) != 0)
		goto out;
	api_answer(r, a, doc);
out:
	call_free(&c);
	cJSON_Delete(doc);
	cJSON_Delete(root);
	return 0;
}

int
action_form(struct req *r)
{
	const struct action	*a = r->action;
	const struct field	*fields;
	struct value		 v[ACTION_FIELDS];
	struct action_call	 c;
	struct session		 s;
	char			 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	PGresult		*res;
	size_t			 n;

	memset(&c, 0, sizeof(c));
	fields = body_fields(r, a, &n);
	if (page_form_read(r, &s, fields, n, v, buf, sizeof(buf)) != 0)
		goto out;
	if (call_fill(&c, r, a, v) != 0) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		goto out;
	}
	if ((res = req_exec_page(r, a->sql, c.n, c.params)) == NULL)
		goto out;
	PQclear(res);
	reply_redirect(r, 303, r->route->back != NULL ? r->route->back : "/",
	    NULL);
out:
	call_free(&c);
	return 0;
}
