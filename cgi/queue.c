/* queue.c: /api/v1/queue and /api/v1/status, what a deployer looks at
 * before and while waiting. Both are SQL functions (sql/006). */
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "cgi.h"
#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct field queue_fields[] = {
	{ .name = "after", .type = FT_INTEGER, .min = 0, .max = 1000000 },
	{ .name = "limit", .type = FT_INTEGER, .min = 1, .max = 500 },
};

/* Answer with the one JSON value sql returns. */
static int
reply_query(struct req *r, const char *sql, int n, const char *const *params)
{
	cJSON	*doc = NULL;

	if (req_query_json(r, sql, n, params, &doc) != 0)
		return 0;
	if (doc == NULL)
		reply_problem(r, 500, NULL, "internal error: no answer");
	else
		reply_json(r, 200, doc, NULL);
	cJSON_Delete(doc);
	return 0;
}

/*
 * The queue page for params (after, limit): the process's copy when no
 * change to deployments was announced since it was stored, judged after a
 * round trip on this request's listening connection (so a change committed
 * before the request came is always seen); else from the database, kept
 * for the next request.
 */
static int
queue_reply(struct req *r, const char *const *params)
{
	char		 key[64], *text;
	uint64_t	 gen;
	cJSON		*doc = NULL;

	snprintf(key, sizeof(key), "queue_page %s %s", params[0], params[1]);
	if ((text = authcache_doc_get(r->cache, key, &gen)) != NULL) {
		if (req_db_sync(r) == 0 &&
		    authcache_doc_generation(r->cache) == gen) {
			reply_json_printed(r, 200, text);
			free(text);
			return 0;
		}
		free(text);
	}
	gen = authcache_doc_generation(r->cache);
	if (req_query_json(r, "SELECT spiderpig.queue_page($1::int, $2::int)",
	    2, params, &doc) != 0)
		return 0;
	if (doc == NULL)
		reply_problem(r, 500, NULL, "internal error: no answer");
	else if ((text = cJSON_PrintUnformatted(doc)) == NULL)
		reply_problem(r, 500, NULL, "out of memory");
	else {
		authcache_doc_put(r->cache, key, text, gen);
		reply_json_printed(r, 200, text);
		cJSON_free(text);
	}
	cJSON_Delete(doc);
	return 0;
}

/*
 * GET /api/v1/queue?after=&limit= : the active deployment and a page of
 * the queue in order (limit, default and most 500, after a position);
 * next_after
 * continues it.
 */
int
queue_get(struct req *r)
{
	struct value	 v[NELEM(queue_fields)];
	struct verr	 ve;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 after[24], limit[24];
	const char	*params[2];

	if (validate_query(r->query, queue_fields, NELEM(queue_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(after, sizeof(after), "%lld", v[0].present ? v[0].i : 0);
	snprintf(limit, sizeof(limit), "%lld", v[1].present ? v[1].i : 500);
	params[0] = after;
	params[1] = limit;
	return queue_reply(r, params);
}

/* GET /api/v1/status: freeze, active deployment, queue length and how
 * long ago a worker was last seen. */
int
status_get(struct req *r)
{
	if (r->query[0] != '\0') {
		reply_problem(r, 400, NULL, "this resource takes no query "
		    "parameters");
		return 0;
	}
	return reply_query(r, "SELECT spiderpig.status()", 0, NULL);
}
