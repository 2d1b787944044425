/* log.c: GET /api/v1/deployments/{id}/log, a deployment's log page by
 * page. SQL (spiderpig.log_page) picks the lines within a byte budget, cuts
 * long ones and collapses sensitive runs for this viewer; this file writes
 * the rows out one by one, so the answer is never built whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL

static const struct field log_fields[] = {
	{ .name = "after", .type = FT_INTEGER, .min = 0, .max = ID_MAX },
	{ .name = "limit", .type = FT_INTEGER, .min = 1, .max = 5000 },
	{ .name = "sensitive", .type = FT_BOOL, .min = 0, .max = 1 },
	{ .name = "line", .type = FT_INTEGER, .min = 1, .max = ID_MAX },
};

/* The columns of spiderpig.log_page, in this order. */
enum { C_SEQ, C_LAST_SEQ, C_AT, C_STREAM, C_SENSITIVE, C_TEXT, C_TRUNCATED,
	C_LENGTH, C_MORE };

static int
is_true(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) &&
	    strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static double
number(const PGresult *res, int row, int col)
{
	return strtod(PQgetvalue(res, row, col), NULL);
}

/* Row i of res as the API's line object; NULL when memory ran out. */
static cJSON *
line_json(const PGresult *res, int i)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "seq", number(res, i, C_SEQ));
	if (!PQgetisnull(res, i, C_LAST_SEQ))
		cJSON_AddNumberToObject(o, "last_seq",
		    number(res, i, C_LAST_SEQ));
	if (!PQgetisnull(res, i, C_AT))
		cJSON_AddStringToObject(o, "at", PQgetvalue(res, i, C_AT));
	if (!PQgetisnull(res, i, C_STREAM))
		cJSON_AddStringToObject(o, "stream",
		    PQgetvalue(res, i, C_STREAM));
	cJSON_AddBoolToObject(o, "sensitive", is_true(res, i, C_SENSITIVE));
	cJSON_AddStringToObject(o, "text", PQgetvalue(res, i, C_TEXT));
	if (is_true(res, i, C_TRUNCATED)) {
		cJSON_AddBoolToObject(o, "truncated", 1);
		cJSON_AddNumberToObject(o, "length", number(res, i, C_LENGTH));
	}
	return o;
}

/* Write one member ("key": value) of the streamed object; key is ours. */
static void
member(struct req *r, const char *key, const cJSON *value)
{
	reply_stream_literal(r, ",\"");
	reply_stream_literal(r, key);
	reply_stream_literal(r, "\":");
	reply_stream_json(r, value);
}

/*
 * Stream {"deployment", "requester", "state" (from head), "lines": rows,
 * "next_after", "more"}. next_after is the last seq the page covers, or
 * after when it is empty.
 */
static void
log_write(struct req *r, const cJSON *head, const PGresult *res,
    long long after)
{
	cJSON		*o, *n;
	int		 i, rows = PQntuples(res), more = 0;
	double		 next = (double)after;

	reply_stream_open(r, 200);
	reply_stream_literal(r, "{\"deployment\":");
	reply_stream_json(r, cJSON_GetObjectItemCaseSensitive(head,
	    "deployment"));
	member(r, "requester", cJSON_GetObjectItemCaseSensitive(head,
	    "requester"));
	member(r, "state", cJSON_GetObjectItemCaseSensitive(head, "state"));
	reply_stream_literal(r, ",\"lines\":[");
	for (i = 0; i < rows; i++) {
		if (i > 0)
			reply_stream_literal(r, ",");
		o = line_json(res, i);
		reply_stream_json(r, o);
		cJSON_Delete(o);
		next = number(res, i, PQgetisnull(res, i, C_LAST_SEQ) ?
		    C_SEQ : C_LAST_SEQ);
		more = is_true(res, i, C_MORE);
	}
	reply_stream_literal(r, "]");
	n = cJSON_CreateNumber(next);
	member(r, "next_after", n);
	cJSON_Delete(n);
	reply_stream_literal(r, more ? ",\"more\":true}" : ",\"more\":false}");
}

/*
 * GET /api/v1/deployments/{id}/log?after=&limit=&sensitive=1&line= : the
 * lines after a seq (at most limit, default 1000, and a few MiB), or with
 * line= one line whole. Sensitive lines are collapsed unless the requester
 * or an admin asks for them with sensitive=1 (403 for anyone else).
 */
int
deployments_log(struct req *r)
{
	struct value	 v[NELEM(log_fields)];
	struct verr	 ve;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 id[24], after[24], limit[24], line[24];
	const char	*params[6];
	cJSON		*head = NULL;
	PGresult	*res = NULL;

	if (validate_query(r->query, log_fields, NELEM(log_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	snprintf(after, sizeof(after), "%lld", v[0].present ? v[0].i : 0);
	snprintf(limit, sizeof(limit), "%lld", v[1].present ? v[1].i : 1000);
	snprintf(line, sizeof(line), "%lld", v[3].i);
	params[0] = r->user;
	params[1] = id;
	params[2] = v[2].present && v[2].i ? "true" : "false";
	if (req_query_json(r, "SELECT spiderpig.log_head($1, $2::bigint, "
	    "$3::boolean)", 3, params, &head) != 0)
		goto out;
	params[2] = v[3].present ? "0" : after;
	params[3] = limit;
	params[4] = v[2].present && v[2].i ? "true" : "false";
	params[5] = v[3].present ? line : NULL;
	if ((res = req_query(r, "SELECT seq, last_seq, at, stream, sensitive, "
	    "text, truncated, length, more FROM spiderpig.log_page($1, "
	    "$2::bigint, $3::bigint, $4::int, $5::boolean, $6::bigint)", 6,
	    params)) == NULL)
		goto out;
	if (v[3].present && PQntuples(res) == 0) {
		reply_problem(r, 404, NULL, "deployment %lld has no line %lld",
		    r->id, v[3].i);
		goto out;
	}
	log_write(r, head, res, v[3].present ? 0 : v[0].i);
out:
	PQclear(res);
	cJSON_Delete(head);
	return 0;
}
