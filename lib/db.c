/* db.c: connecting to PostgreSQL and running parameterised statements. */
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

PGresult *
db_exec(PGconn *conn, const char *sql, int nparams,
    const char *const *params, PGresult **errp)
{
	PGresult	*res;
	ExecStatusType	 st;

	if (errp != NULL)
		*errp = NULL;
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
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
