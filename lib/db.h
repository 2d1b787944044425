/* db.h: the one way spiderpig talks to PostgreSQL. */
#ifndef SPIDERPIG_DB_H
#define SPIDERPIG_DB_H

#include <libpq-fe.h>

/*
 * Open a connection with conninfo, set application_name, a
 * statement_timeout and, unless conninfo says otherwise, TCP keepalives
 * and tcp_user_timeout (a vanished server is noticed in about 25 s).
 * Returns NULL (and logs why) when the server cannot be reached; the
 * caller retries later.
 */
PGconn	*db_connect(const char *conninfo, const char *appname);

/*
 * Make sure conn is usable: if it is NULL or broken, (re)connect. Returns the
 * connection to use (possibly new) or NULL when the database is down.
 */
PGconn	*db_ensure(PGconn *conn, const char *conninfo, const char *appname);

/*
 * Run a parameterised statement (text params, text results). Returns the
 * result when its status is PGRES_TUPLES_OK or PGRES_COMMAND_OK, else NULL
 * with *errp set to the failed result (caller PQclear()s it; may be NULL when
 * the connection broke). Never builds SQL from data.
 */
PGresult *db_exec(PGconn *, const char *sql, int nparams,
	    const char *const *params, PGresult **errp);

/* HTTP-ish status for a failed result: SPxxx -> xxx, connection -> 503,
 * anything else -> 500. */
int	 db_error_status(const PGresult *err);

#endif
