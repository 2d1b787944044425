/* health.c: liveness (no database) and readiness (database answers, has
 * every migration this build knows, and a worker heartbeat is fresh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "migrations.h"

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

static const char *const migrations[] = { SPIDERPIG_MIGRATIONS };

/* 1 when name is an element of the text[] literal list ("{a,b}"; migration
 * names need no quoting). */
static int
migration_listed(const char *list, const char *name)
{
	size_t	n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == '{' || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '}'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The applied migrations as a text[] literal, in *out (freed by the
 * caller). Before 005 the database has no migrations_applied(): then every
 * migration up to schema_version() counts as applied. -1 when the database
 * cannot tell.
 */
static int
migrations_applied(PGconn *c, char **out)
{
	PGresult	*res, *err = NULL;
	const char	*v;
	char		 buf[1024];
	size_t		 i, len = 0;
	int		 rc = -1;

	*out = NULL;
	res = db_exec(c, "SELECT spiderpig.migrations_applied()", 0, NULL,
	    &err);
	if (res != NULL && PQntuples(res) == 1) {
		*out = strdup(PQgetvalue(res, 0, 0));
		rc = *out != NULL ? 0 : -1;
		goto out;
	}
	PQclear(res);
	PQclear(err);
	err = NULL;
	res = db_exec(c, "SELECT spiderpig.schema_version()", 0, NULL, &err);
	if (res == NULL || PQntuples(res) != 1)
		goto out;
	v = PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
	buf[len++] = '{';
	for (i = 0; migrations[i] != NULL; i++) {
		if (strcmp(migrations[i], v) > 0 ||
		    len + strlen(migrations[i]) + 3 > sizeof(buf))
			break;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i > 0 ? "," : "", migrations[i]);
	}
	buf[len++] = '}';
	buf[len] = '\0';
	*out = strdup(buf);
	rc = *out != NULL ? 0 : -1;
out:
	PQclear(res);
	PQclear(err);
	return rc;
}

/*
 * The worker side: NULL in *reason when a worker heartbeat is fresh
 * (sql/014: worker_readiness()), else why not (freed by the caller).
 * -1 when the database cannot tell.
 */
static int
worker_readiness(PGconn *c, char **reason)
{
	PGresult	*res, *err = NULL;
	int		 rc = -1;

	*reason = NULL;
	res = db_exec(c, "SELECT spiderpig.worker_readiness()", 0, NULL, &err);
	if (res != NULL && PQntuples(res) == 1) {
		rc = 0;
		if (!PQgetisnull(res, 0, 0) &&
		    (*reason = strdup(PQgetvalue(res, 0, 0))) == NULL)
			rc = -1;
	}
	PQclear(res);
	PQclear(err);
	return rc;
}

/* GET /api/v1/readyz: 200 when the database answers, has every migration
 * this build knows (taken from sql/ at build time) and a worker heartbeat
 * is fresh; else 503 with Retry-After, naming what is missing. */
int
health_ready(struct req *r)
{
	PGconn		*c;
	cJSON		*doc = NULL;
	char		*applied = NULL, *worker = NULL, missing[512];
	size_t		 i, len = 0;

	if ((c = req_db(r)) == NULL) {
		reply_problem(r, 503, NULL, "the database is unavailable");
		return 0;
	}
	if (migrations_applied(c, &applied) != 0) {
		reply_problem(r, 503, NULL, "the database cannot tell which "
		    "migrations it has");
		goto out;
	}
	missing[0] = '\0';
	for (i = 0; migrations[i] != NULL; i++) {
		if (migration_listed(applied, migrations[i]))
			continue;
		if (len + strlen(migrations[i]) + 3 < sizeof(missing))
			len += (size_t)snprintf(missing + len,
			    sizeof(missing) - len, "%s%s", len > 0 ? ", " : "",
			    migrations[i]);
	}
	if (len > 0) {
		reply_problem(r, 503, NULL, "migration not applied: %s "
		    "(run tools/migrate)", missing);
		goto out;
	}
	if (worker_readiness(c, &worker) != 0) {
		reply_problem(r, 503, NULL, "the database cannot tell whether "
		    "a worker runs");
		goto out;
	}
	if (worker != NULL) {
		reply_problem(r, 503, NULL, "%s", worker);
		goto out;
	}
	if ((doc = cJSON_CreateObject()) == NULL) {
		reply_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(doc, "status", "ready");
	cJSON_AddStringToObject(doc, "schema", migrations[i - 1]);
	reply_json(r, 200, doc, NULL);
out:
	cJSON_Delete(doc);
	free(applied);
	free(worker);
	return 0;
}
