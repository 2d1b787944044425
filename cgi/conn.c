/* conn.c: the serving thread's database connection and the API's way to
 * run a statement on it. Handlers (auth.c included) call these; nothing
 * here calls a handler, so request.c -> auth.c -> conn.c has no circle. */
#include <poll.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "json.h"

#define APPNAME	"spiderpig-fcgi"

/*
 * True when the server closed an idle connection since we last used it
 * (restart, idle timeout, pg_terminate_backend): anything readable on an
 * idle connection is the goodbye or EOF. Cheap: one poll() with no wait.
 */
static int
db_closed_by_server(PGconn *c)
{
	struct pollfd	 pfd;

	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (PQconsumeInput(c) == 0)
		return 1;
	return PQstatus(c) != CONNECTION_OK;
}

/*
 * Every connection of the app LISTENs on spiderpig_auth_cache from its
 * start; a new one may have missed notifications, so the cache is flushed
 * whenever one is made.
 */
PGconn *
req_db(struct req *r)
{
	PGconn	*c = *r->dbp;

	if (c != NULL && (PQstatus(c) != CONNECTION_OK ||
	    PQtransactionStatus(c) != PQTRANS_IDLE || db_closed_by_server(c))) {
		PQfinish(c);
		c = NULL;
	}
	if (c == NULL) {
		if ((c = db_connect(r->cfg->db_web, APPNAME)) != NULL &&
		    authcache_listen(c) != 0) {
			PQfinish(c);
			c = NULL;
		}
		authcache_flush_all(r->cache);
		r->queried = 0;
	} else
		authcache_drain(r->cache, c);
	*r->dbp = c;
	return c;
}

int
req_db_sync(struct req *r)
{
	PGconn		*c;
	PGresult	*res;
	int		 rc;

	if ((c = req_db(r)) == NULL)
		return -1;
	res = PQexec(c, "");
	rc = PQresultStatus(res) == PGRES_EMPTY_QUERY ? 0 : -1;
	PQclear(res);
	if (rc == 0) {
		r->queried = 1;
		authcache_drain(r->cache, c);
	}
	return rc;
}

PGresult *
req_query(struct req *r, const char *sql, int nparams,
    const char *const *params)
{
	PGconn		*c;
	PGresult	*res, *err = NULL;
	int		 tries = strcmp(r->method, "GET") == 0 ? 2 : 1;

	for (;;) {
		if ((c = req_db(r)) == NULL) {
			reply_db_error(r, NULL);
			return NULL;
		}
		if ((res = db_exec(c, sql, nparams, params, &err)) != NULL) {
			r->queried = 1;
			break;
		}
		/* A read may be retried once on a new connection. */
		if (--tries > 0 && PQstatus(c) != CONNECTION_OK) {
			PQclear(err);
			continue;
		}
		reply_db_error(r, err);
		PQclear(err);
		return NULL;
	}
	return res;
}

int
req_query_json(struct req *r, const char *sql, int nparams,
    const char *const *params, cJSON **out)
{
	PGresult	*res;

	*out = NULL;
	if ((res = req_query(r, sql, nparams, params)) == NULL)
		return -1;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    (*out = json_from_pg(res, 0, 0)) == NULL) {
		PQclear(res);
		reply_problem(r, 500, NULL, "internal error: bad JSON from "
		    "the database");
		return -1;
	}
	PQclear(res);
	return 0;
}

