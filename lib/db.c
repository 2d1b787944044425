/* db.c: connecting to PostgreSQL and running parameterised statements. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "util.h"

PGconn *
db_connect(const char *conninfo, const char *appname)
{
	const char	*keys[] = { "dbname", "application_name",
			    "connect_timeout", "options", NULL };
	const char	*vals[] = { conninfo, appname, "5",
			    "-c statement_timeout=30000", NULL };
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

/* Statement name for sql: a 64-bit FNV-1a hash of the text, so the same
 * text always maps to the same name on any connection. */
static void
db_statement_name(const char *sql, char name[24])
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 h = 14695981039346656037ULL;
	int			 i;

	for (; *sql != '\0'; sql++) {
		h ^= (unsigned char)*sql;
		h *= 1099511628211ULL;
	}
	memcpy(name, "sp_", 3);
	for (i = 0; i < 16; i++)
		name[3 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
	name[19] = '\0';
}

static int
db_result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return res != NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK);
}

/*
 * Statements are prepared on a connection the first time they run there and
 * executed by name after that: the server parses and plans each text once
 * per connection instead of once per request. A new connection (after a
 * reconnect) has none: "does not exist" (26000) prepares and runs again.
 */
PGresult *
db_exec(PGconn *conn, const char *sql, int nparams,
    const char *const *params, PGresult **errp)
{
	PGresult	*res, *prep;
	const char	*state;
	char		 name[24];

	if (errp != NULL)
		*errp = NULL;
	/* Inside a transaction a missing statement would abort it: run the
	 * text directly there. */
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
		goto done;
	}
	db_statement_name(sql, name);
	res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!db_result_ok(res) && state != NULL && strcmp(state, "26000") == 0 &&
	    PQtransactionStatus(conn) == PQTRANS_IDLE) {
		PQclear(res);
		prep = PQprepare(conn, name, sql, nparams, NULL);
		if (!db_result_ok(prep)) {
			res = prep;
			goto fail;
		}
		PQclear(prep);
		res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	}
done:
	if (db_result_ok(res))
		return res;
fail:
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
