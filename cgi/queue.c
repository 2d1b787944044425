/* queue.c: /api/v1/queue and /api/v1/status, what a deployer looks at
 * before and while waiting. */
#include <cJSON.h>

#include "cgi.h"

#define SQL_ACTIVE_STATES \
	"('awaiting_ready', 'merging', 'syncing_test', 'smoke_testing', " \
	"'awaiting_continue', 'syncing_canary', 'checking_canary', " \
	"'syncing_production', 'awaiting_finish', 'rolling_back', " \
	"'awaiting_ack')"

/* Answer with the one JSON value sql returns. */
static int
reply_query(struct req *r, const char *sql)
{
	cJSON	*doc = NULL;

	if (r->query[0] != '\0') {
		reply_problem(r, 400, NULL, "this resource takes no query "
		    "parameters");
		return 0;
	}
	if (req_query_json(r, sql, 0, NULL, &doc) != 0)
		return 0;
	if (doc == NULL)
		reply_problem(r, 500, NULL, "internal error: no answer");
	else
		reply_json(r, 200, doc, NULL);
	cJSON_Delete(doc);
	return 0;
}

/* GET /api/v1/queue: the active deployment and the queue in order. */
int
queue_get(struct req *r)
{
	return reply_query(r,
	    "SELECT json_build_object("
	    "'active', (SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "  spiderpig.deployments d WHERE d.state IN " SQL_ACTIVE_STATES
	    "  LIMIT 1), "
	    "'queued', (SELECT coalesce(json_agg(" SQL_DEPLOYMENT_JSON
	    "  ORDER BY d.position), '[]') FROM spiderpig.deployments d "
	    "  WHERE d.state = 'queued'))");
}

/* GET /api/v1/status: freeze, active deployment, queue length and how
 * long ago a worker was last seen. */
int
status_get(struct req *r)
{
	return reply_query(r,
	    "SELECT json_build_object("
	    "'frozen', f.id IS NOT NULL, "
	    "'freeze', CASE WHEN f.id IS NOT NULL THEN json_build_object("
	    "  'reason', f.reason, 'by', f.frozen_by, 'since', f.since, "
	    "  'until', f.until) END, "
	    "'active', (SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "  spiderpig.deployments d WHERE d.state IN " SQL_ACTIVE_STATES
	    "  LIMIT 1), "
	    "'queue_length', (SELECT count(*) FROM spiderpig.deployments "
	    "  WHERE state = 'queued'), "
	    "'worker_heartbeat_age', (SELECT round(extract(epoch FROM "
	    "  now() - max(w.seen_at))::numeric, 3) FROM spiderpig.workers w), "
	    "'now', now()) "
	    "FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT * FROM "
	    "spiderpig.freezes WHERE lifted_at IS NULL AND (until IS NULL OR "
	    "until > now()) ORDER BY id DESC LIMIT 1) f ON true");
}
