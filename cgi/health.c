/* health.c: liveness (no database) and readiness (database answers and
 * its schema is at least what this binary expects). */
#include <stdio.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"

/* GET /api/v1/healthz: the process serves requests. */
int
health_live(struct req *r)
{
	cJSON	*doc;

	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "status", "ok") == NULL) {
		cJSON_Delete(doc);
		reply_problem(r, 500, NULL, "out of memory");
		return 0;
	}
	reply_json(r, 200, doc, NULL);
	cJSON_Delete(doc);
	return 0;
}

/* The leading number of a migration name ("002_functions" -> 2), or -1. */
static long
schema_number(const char *v)
{
	long	n = 0;
	int	digits = 0;

	for (; *v >= '0' && *v <= '9' && digits < 9; v++, digits++)
		n = n * 10 + (*v - '0');
	return digits > 0 ? n : -1;
}

/* GET /api/v1/readyz: 200 when the database answers and no migration
 * this binary needs is missing; else 503 with Retry-After. */
int
health_ready(struct req *r)
{
	PGconn		*c;
	PGresult	*res = NULL, *err = NULL;
	cJSON		*doc = NULL;
	const char	*v;
	long		 have;

	if ((c = req_db(r)) == NULL) {
		reply_problem(r, 503, NULL, "the database is unavailable");
		return 0;
	}
	res = db_exec(c, "SELECT spiderpig.schema_version()", 0, NULL, &err);
	if (res == NULL || PQntuples(res) != 1) {
		reply_problem(r, 503, NULL, "the database cannot tell its "
		    "schema version");
		goto out;
	}
	v = PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
	have = schema_number(v);
	if (have < SPIDERPIG_SCHEMA_VERSION) {
		reply_problem(r, 503, NULL, "migration pending: the database "
		    "is at %.40s, this build needs %d", v[0] != '\0' ? v :
		    "nothing", SPIDERPIG_SCHEMA_VERSION);
		goto out;
	}
	if ((doc = cJSON_CreateObject()) == NULL) {
		reply_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(doc, "status", "ready");
	cJSON_AddStringToObject(doc, "schema", v);
	reply_json(r, 200, doc, NULL);
out:
	cJSON_Delete(doc);
	PQclear(res);
	PQclear(err);
	return 0;
}
