/* deployments.c: /api/v1/deployments: enqueue, history, one deployment,
 * its log, and the deployer's actions (answer, rollback, cancel). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL	/* what a JSON number holds */

static const struct field enqueue_fields[] = {
	{ "patches", FT_STRINGS, 1, 1, 20, 300, check_patch, patch_change },
};

static const struct field list_fields[] = {
	{ "state",  FT_STRING,  0, 1, 32, 0, check_state, NULL },
	{ "limit",  FT_INTEGER, 0, 1, 200, 0, NULL, NULL },
	{ "before", FT_INTEGER, 0, 1, ID_MAX, 0, NULL, NULL },
};

static const struct field log_fields[] = {
	{ "after",     FT_INTEGER, 0, 0, ID_MAX, 0, NULL, NULL },
	{ "limit",     FT_INTEGER, 0, 1, 5000, 0, NULL, NULL },
	{ "sensitive", FT_BOOL,    0, 0, 1, 0, NULL, NULL },
};

static const struct field answer_fields[] = {
	{ "prompt", FT_INTEGER, 1, 1, ID_MAX, 0, NULL, NULL },
	{ "answer", FT_STRING,  1, 1, 32, 0, check_text, NULL },
};

static const struct field rollback_fields[] = {
	{ "reason", FT_STRING, 0, 1, 500, 0, check_text, NULL },
};

static const struct field no_fields[] = {
	{ "", FT_STRING, 0, 0, 0, 0, NULL, NULL },	/* never matches a key */
};

/*
 * Write ps as a PostgreSQL text[] literal ({"a","b"}) into a new string.
 * This quotes data for one parameter; it builds no SQL.
 */
static char *
pg_text_array(const cJSON *arr)
{
	const cJSON	*it;
	const char	*s;
	size_t		 len = 3;
	char		*out, *o;

	cJSON_ArrayForEach(it, arr)
		len += 2 * strlen(it->valuestring) + 3;
	if ((out = malloc(len)) == NULL)
		return NULL;
	o = out;
	*o++ = '{';
	cJSON_ArrayForEach(it, arr) {
		if (o != out + 1)
			*o++ = ',';
		*o++ = '"';
		for (s = it->valuestring; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Answer with a validation failure: 415 or 400 with every problem listed. */
static void
reply_invalid(struct req *r, const struct verr *ve)
{
	reply_problem(r, ve->status != 0 ? ve->status : 400, ve, "%s",
	    ve->n > 0 ? ve->e[0].detail : "invalid input");
}

/* POST /api/v1/deployments {"patches": [...]} -> 201 + Location. */
int
deployments_create(struct req *r)
{
	struct value	 v[NELEM(enqueue_fields)];
	struct verr	 ve;
	cJSON		*root = NULL, *d = NULL, *id;
	char		*arr = NULL, loc[64];
	const char	*params[2];

	if (validate_json(r->body, r->bodylen, enqueue_fields,
	    NELEM(enqueue_fields), v, &root, &ve) != 0) {
		reply_invalid(r, &ve);
		goto out;
	}
	if ((arr = pg_text_array(v[0].items)) == NULL) {
		reply_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	params[0] = r->user;
	params[1] = arr;
	if (req_query_json(r, "SELECT " SQL_DEPLOYMENT_JSON
	    " FROM spiderpig.enqueue($1, $2::text[]) d", 2, params, &d) != 0)
		goto out;
	if ((id = cJSON_GetObjectItem(d, "id")) == NULL || !cJSON_IsNumber(id)) {
		reply_problem(r, 500, NULL, "internal error: no deployment");
		goto out;
	}
	snprintf(loc, sizeof(loc), "/api/v1/deployments/%.0f", id->valuedouble);
	reply_json(r, 201, d, loc);
out:
	cJSON_Delete(root);
	cJSON_Delete(d);
	free(arr);
	return 0;
}

/* GET /api/v1/deployments?state=&limit=&before= : newest first. */
int
deployments_list(struct req *r)
{
	struct value	 v[NELEM(list_fields)];
	struct verr	 ve;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 limit[24], before[24];
	const char	*params[3];
	cJSON		*list = NULL;

	if (validate_query(r->query, list_fields, NELEM(list_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(limit, sizeof(limit), "%lld", v[1].present ? v[1].i : 50);
	snprintf(before, sizeof(before), "%lld", v[2].i);
	params[0] = v[0].present ? v[0].s : NULL;
	params[1] = limit;
	params[2] = v[2].present ? before : NULL;
	if (req_query_json(r,
	    "SELECT json_build_object('deployments', coalesce(json_agg(x.j "
	    "ORDER BY x.id DESC), '[]'), 'next_before', CASE WHEN count(*) = "
	    "$2::int THEN min(x.id) END) FROM (SELECT d.id, "
	    SQL_DEPLOYMENT_JSON " AS j FROM spiderpig.deployments d "
	    "WHERE ($1::text IS NULL OR d.state = $1) AND "
	    "($3::bigint IS NULL OR d.id < $3) ORDER BY d.id DESC "
	    "LIMIT $2::int) x", 3, params, &list) != 0)
		return 0;
	reply_json(r, 200, list, NULL);
	cJSON_Delete(list);
	return 0;
}

/* Run sql (one deployment as JSON, or none) and answer 200 with it or 404. */
static int
deployment_action(struct req *r, const char *sql, int nparams,
    const char *const *params)
{
	cJSON	*d = NULL;

	if (req_query_json(r, sql, nparams, params, &d) != 0)
		return 0;
	if (d == NULL || cJSON_IsNull(d))
		reply_problem(r, 404, NULL, "no deployment %lld", r->id);
	else
		reply_json(r, 200, d, NULL);
	cJSON_Delete(d);
	return 0;
}

/* GET /api/v1/deployments/{id}: the row, its open prompt, stages, events. */
int
deployments_get(struct req *r)
{
	char		 id[24];
	const char	*params[1];

	if (r->query[0] != '\0') {
		reply_problem(r, 400, NULL, "this resource takes no query "
		    "parameters");
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	params[0] = id;
	return deployment_action(r,
	    "SELECT " SQL_DEPLOYMENT_JSON "::jsonb || jsonb_build_object("
	    "'touched_stages', d.touched_stages, "
	    "'prompt', (SELECT json_build_object('id', p.id, 'kind', p.kind, "
	    "  'question', p.question, 'choices', p.choices, "
	    "  'default', p.default_answer, 'asked_at', p.asked_at, "
	    "  'expires_at', p.expires_at) FROM spiderpig.prompts p "
	    "  WHERE p.deployment_id = d.id AND p.answered_at IS NULL), "
	    "'stages', (SELECT json_agg(json_build_object('name', s.name, "
	    "  'status', CASE WHEN l.action IS NULL THEN 'pending' "
	    "    WHEN l.action = 'stage_started' THEN 'running' "
	    "    WHEN (l.details->>'ok')::boolean THEN 'done' ELSE 'failed' END, "
	    "  'started_at', b.at, 'finished_at', CASE WHEN l.action = "
	    "    'stage_finished' THEN l.at END, "
	    "  'detail', l.details->'detail') ORDER BY s.ord) "
	    "  FROM unnest(ARRAY['merge', 'sync_test', 'smoke_test', "
	    "    'sync_canary', 'canary_check', 'sync_production']) "
	    "    WITH ORDINALITY s(name, ord) "
	    "  LEFT JOIN LATERAL (SELECT e.action, e.at, e.details "
	    "    FROM spiderpig.events e WHERE e.deployment_id = d.id AND "
	    "    e.action IN ('stage_started', 'stage_finished') AND "
	    "    e.details->>'stage' = s.name ORDER BY e.id DESC LIMIT 1) l "
	    "    ON true "
	    "  LEFT JOIN LATERAL (SELECT e.at FROM spiderpig.events e "
	    "    WHERE e.deployment_id = d.id AND e.action = 'stage_started' "
	    "    AND e.details->>'stage' = s.name ORDER BY e.id DESC "
	    "    LIMIT 1) b ON true), "
	    "'events', (SELECT coalesce(json_agg(json_build_object('id', e.id, "
	    "  'at', e.at, 'actor', e.actor, 'action', e.action, "
	    "  'details', e.details) ORDER BY e.id), '[]') FROM (SELECT * "
	    "  FROM spiderpig.events e WHERE e.deployment_id = d.id "
	    "  ORDER BY e.id LIMIT 1000) e)) "
	    "FROM spiderpig.deployments d WHERE d.id = $1::bigint",
	    1, params);
}

/*
 * GET /api/v1/deployments/{id}/log?after=&limit=&sensitive=1 : lines after
 * a seq. Sensitive lines are collapsed unless the requester or an admin
 * asks for them with sensitive=1.
 */
int
deployments_log(struct req *r)
{
	struct value	 v[NELEM(log_fields)];
	struct verr	 ve;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 id[24], after[24], limit[24];
	const char	*params[3];
	cJSON		*doc = NULL, *lines, *req;
	int		 reveal, admin;

	if (validate_query(r->query, log_fields, NELEM(log_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	snprintf(after, sizeof(after), "%lld", v[0].present ? v[0].i : 0);
	snprintf(limit, sizeof(limit), "%lld", v[1].present ? v[1].i : 1000);
	params[0] = id;
	params[1] = after;
	params[2] = limit;
	if (req_query_json(r,
	    "SELECT json_build_object('deployment', d.id, 'requester', "
	    "d.requester, 'state', d.state, 'lines', (SELECT "
	    "coalesce(json_agg(json_build_object('seq', l.seq, 'at', l.at, "
	    "'stream', l.stream, 'sensitive', l.sensitive, 'text', l.line) "
	    "ORDER BY l.seq), '[]') FROM (SELECT * FROM spiderpig.log_lines l "
	    "WHERE l.deployment_id = d.id AND l.seq > $2::bigint "
	    "ORDER BY l.seq LIMIT $3::int) l), 'next_after', (SELECT "
	    "max(l.seq) FROM (SELECT l.seq FROM spiderpig.log_lines l "
	    "WHERE l.deployment_id = d.id AND l.seq > $2::bigint "
	    "ORDER BY l.seq LIMIT $3::int) l)) "
	    "FROM spiderpig.deployments d WHERE d.id = $1::bigint",
	    3, params, &doc) != 0)
		return 0;
	if (doc == NULL) {
		reply_problem(r, 404, NULL, "no deployment %lld", r->id);
		return 0;
	}
	req = cJSON_GetObjectItem(doc, "requester");
	admin = strcmp(r->role, "admin") == 0;
	reveal = v[2].present && v[2].i;
	if (reveal && !admin && !(cJSON_IsString(req) &&
	    strcmp(req->valuestring, r->user) == 0)) {
		reply_problem(r, 403, NULL, "only the requester or an admin "
		    "may see sensitive lines");
		goto out;
	}
	lines = cJSON_GetObjectItem(doc, "lines");
	if (!reveal && lines != NULL && log_collapse_sensitive(lines) != 0) {
		reply_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	if (cJSON_IsNull(cJSON_GetObjectItem(doc, "next_after")))
		cJSON_ReplaceItemInObject(doc, "next_after",
		    cJSON_CreateNumber((double)(v[0].present ? v[0].i : 0)));
	reply_json(r, 200, doc, NULL);
out:
	cJSON_Delete(doc);
	return 0;
}

/* POST /api/v1/deployments/{id}/answer {"prompt": ID, "answer": "yes"}. */
int
deployments_answer(struct req *r)
{
	struct value	 v[NELEM(answer_fields)];
	struct verr	 ve;
	cJSON		*root = NULL;
	char		 id[24], prompt[24];
	const char	*params[4];

	if (validate_json(r->body, r->bodylen, answer_fields,
	    NELEM(answer_fields), v, &root, &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	snprintf(prompt, sizeof(prompt), "%lld", v[0].i);
	params[0] = r->user;
	params[1] = id;
	params[2] = prompt;
	params[3] = v[1].s;
	deployment_action(r, "SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "spiderpig.answer($1, $2::bigint, $3::bigint, $4) d", 4, params);
	cJSON_Delete(root);
	return 0;
}

/* POST /api/v1/deployments/{id}/rollback {"reason": "..."}. */
int
deployments_rollback(struct req *r)
{
	struct value	 v[NELEM(rollback_fields)];
	struct verr	 ve;
	cJSON		*root = NULL;
	char		 id[24];
	const char	*params[3];

	if (validate_json(r->body, r->bodylen, rollback_fields,
	    NELEM(rollback_fields), v, &root, &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	params[0] = r->user;
	params[1] = id;
	params[2] = v[0].present ? v[0].s : NULL;
	deployment_action(r, "SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "spiderpig.request_rollback($1, $2::bigint, $3) d", 3, params);
	cJSON_Delete(root);
	return 0;
}

/* POST /api/v1/deployments/{id}/cancel (empty body or {}). */
int
deployments_cancel(struct req *r)
{
	struct value	 v[1];
	struct verr	 ve;
	cJSON		*root = NULL;
	char		 id[24];
	const char	*params[2];

	if (validate_json(r->body, r->bodylen, no_fields, 0, v, &root,
	    &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	params[0] = r->user;
	params[1] = id;
	deployment_action(r, "SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "spiderpig.cancel($1, $2::bigint) d", 2, params);
	cJSON_Delete(root);
	return 0;
}
