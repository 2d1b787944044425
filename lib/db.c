/* db.c: connecting to PostgreSQL and running parameterised statements. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <libpq-events.h>

#include "db.h"
#include "util.h"

/* The statements prepared on one connection (by hash of their text),
 * attached to the PGconn itself; a reset connection has none. */
#define DB_PREPARED_MAX	128

struct db_prepared {
	size_t		 n;
	uint64_t	 hash[DB_PREPARED_MAX];
};

static int
db_event(PGEventId id, void *info, void *pass)
{
	struct db_prepared	*p;

	(void)pass;
	if (id == PGEVT_CONNDESTROY) {
		free(PQinstanceData(((PGEventConnDestroy *)info)->conn, db_event));
	} else if (id == PGEVT_CONNRESET) {
		p = PQinstanceData(((PGEventConnReset *)info)->conn, db_event);
		if (p != NULL)
			p->n = 0;
	}
	return 1;
}

/*
 * conninfo may name several servers, libpq keeping the first that suits
 * its target_session_attrs. Over TCP a server whose
 * machine is gone sends no reset: without these a connection would look
 * alive for ~15 minutes of retransmissions (a query waiting on it) or for
 * ever (an idle LISTEN connection). Keepalives end an idle one after about
 * 25 s of silence, tcp_user_timeout one with data unacknowledged for 20 s;
 * either way the daemon's next use fails and it connects again. They come
 * before the conninfo, so its own values win; a unix socket ignores them.
 */
PGconn *
db_connect(const char *conninfo, const char *appname)
{
	const char	*keys[] = { "keepalives", "keepalives_idle",
			    "keepalives_interval", "keepalives_count",
			    "tcp_user_timeout", "dbname", "application_name",
			    "connect_timeout", "options", NULL };
	const char	*vals[] = { "1", "10", "5", "3", "20000", conninfo,
			    appname, "5", "-c statement_timeout=30000", NULL };
	PGconn		*conn;

	/* expand_dbname=1: the first dbname value is parsed as a conninfo. */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		return NULL;
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warn("database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	/* Without the list of prepared statements, db_exec runs every text
	 * directly: slower, still correct. */
	if (PQregisterEventProc(conn, db_event, "spiderpig-db", NULL))
		PQsetInstanceData(conn, db_event,
		    calloc(1, sizeof(struct db_prepared)));
	return conn;
}

PGconn *
db_ensure(PGconn *conn, const char *conninfo, const char *appname)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) == PQTRANS_IDLE)
		return conn;
	if (conn != NULL)
		PQfinish(conn);
	return db_connect(conninfo, appname);
}

/* 64-bit FNV-1a hash of a statement's text: its name on every connection. */
static uint64_t
db_statement_hash(const char *sql)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *sql != '\0'; sql++) {
		h ^= (unsigned char)*sql;
		h *= 1099511628211ULL;
	}
	return h;
}

static int
db_result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return res != NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK);
}

/*
 * Statements are prepared on a connection the first time they run there and
 * executed by name after that, so the server parses and plans each text
 * once per connection instead of once per request. Inside a transaction, or
 * when the connection's list is full, the text runs directly.
 */
PGresult *
db_exec(PGconn *conn, const char *sql, int nparams,
    const char *const *params, PGresult **errp)
{
	struct db_prepared	*p = PQinstanceData(conn, db_event);
	PGresult		*res;
	uint64_t		 h;
	char			 name[24];
	size_t			 i;

	if (errp != NULL)
		*errp = NULL;
	if (p == NULL || PQtransactionStatus(conn) != PQTRANS_IDLE) {
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
		goto done;
	}
	h = db_statement_hash(sql);
	snprintf(name, sizeof(name), "sp_%016llx", (unsigned long long)h);
	for (i = 0; i < p->n && p->hash[i] != h; i++)
		;
	if (i == p->n) {
		if (p->n == DB_PREPARED_MAX) {
			res = PQexecParams(conn, sql, nparams, NULL, params,
			    NULL, NULL, 0);
			goto done;
		}
		res = PQprepare(conn, name, sql, nparams, NULL);
		if (!db_result_ok(res))
			goto done;
		PQclear(res);
		p->hash[p->n++] = h;
	}
	res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
done:
	if (db_result_ok(res))
		return res;
	if (res != NULL && PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL)
		log_warn("database: %s", PQerrorMessage(conn));
	if (errp != NULL)
		*errp = res;
	else
		PQclear(res);
	return NULL;
}

int
db_error_status(const PGresult *err)
{
	const char	*state;
	long long	 code;
	const char	*errstr;

	if (err == NULL)
		return 503;
	state = PQresultErrorField(err, PG_DIAG_SQLSTATE);
	if (state == NULL)
		return 503;
	if (strncmp(state, "SP", 2) == 0 &&
	    util_strtonum(state + 2, 100, 599, &code, &errstr) == 0)
		return (int)code;
	/* Connection-class (08), shutdown/admin (57P), cannot connect now. */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return 503;
	/* Serialization/deadlock: safe to retry. */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return 503;
	/* Constraint violations that the functions did not catch: conflicts. */
	if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
		return 409;
	return 500;
}
