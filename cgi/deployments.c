/* deployments.c: GET /api/v1/deployments (the history) and
 * GET /api/v1/deployments/{id}. The reads are SQL functions (sql/006);
 * enqueue and the deployer's actions are rows of action_table.c. */
#include <stdio.h>

#include <cJSON.h>

#include "cgi.h"
#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL	/* what a JSON number holds */

static const struct field list_fields[] = {
	{ .name = "state", .type = FT_STRING, .min = 1, .max = 32,
	  .check = check_state },
	{ .name = "limit", .type = FT_INTEGER, .min = 1, .max = 200 },
	{ .name = "before", .type = FT_INTEGER, .min = 1, .max = ID_MAX },
	{ .name = "user", .type = FT_STRING, .min = 1, .max = 128,
	  .check = check_user_name },
	{ .name = "since", .type = FT_STRING, .min = 20, .max = 40,
	  .check = check_rfc3339 },
	{ .name = "until", .type = FT_STRING, .min = 20, .max = 40,
	  .check = check_rfc3339 },
};

/*
 * GET /api/v1/deployments?state=&user=&since=&until=&limit=&before= :
 * newest first; next_before continues the list.
 */
int
deployments_list(struct req *r)
{
	struct value	 v[NELEM(list_fields)];
	struct verr	 ve;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 limit[24], before[24];
	const char	*params[6];
	cJSON		*list = NULL;

	if (validate_query(r->query, list_fields, NELEM(list_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		reply_invalid(r, &ve);
		return 0;
	}
	snprintf(limit, sizeof(limit), "%lld", v[1].present ? v[1].i : 50);
	snprintf(before, sizeof(before), "%lld", v[2].i);
	params[0] = v[0].present ? v[0].s : NULL;
	params[1] = v[3].present ? v[3].s : NULL;
	params[2] = v[4].present ? v[4].s : NULL;
	params[3] = v[5].present ? v[5].s : NULL;
	params[4] = v[2].present ? before : NULL;
	params[5] = limit;
	if (req_query_json(r, "SELECT spiderpig.deployment_list($1, $2, "
	    "$3::timestamptz, $4::timestamptz, $5::bigint, $6::int)", 6,
	    params, &list) != 0)
		return 0;
	reply_json(r, 200, list, NULL);
	cJSON_Delete(list);
	return 0;
}

/* GET /api/v1/deployments/{id}: the row, its open prompt, stages, events. */
int
deployments_get(struct req *r)
{
	char		 id[24];
	const char	*params[1];
	cJSON		*d = NULL;

	if (r->query[0] != '\0') {
		reply_problem(r, 400, NULL, "this resource takes no query "
		    "parameters");
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	params[0] = id;
	if (req_query_json(r, "SELECT spiderpig.deployment_get($1::bigint)",
	    1, params, &d) != 0)
		return 0;
	if (d == NULL || cJSON_IsNull(d))
		reply_problem(r, 404, NULL, "no deployment %lld", r->id);
	else
		reply_json(r, 200, d, NULL);
	cJSON_Delete(d);
	return 0;
}
