/* outbox.c: the sender's side of sql/018: register the receiver, claim its
 * next row, record the answer, ask when the next is due, prune. Every call
 * is one SQL function, and each names the receiver ([hooks] name). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "db.h"
#include "hooks.h"
#include "util.h"

void
outbox_row_free(struct outbox_row *r)
{
	if (r == NULL)
		return;
	free(r->event);
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

/* Log a failed call's error (err may be NULL: the connection broke). */
static void
outbox_warn(const char *what, PGconn *conn, PGresult *err)
{
	log_warn("%s: %s", what, err != NULL ?
	    PQresultErrorMessage(err) : PQerrorMessage(conn));
	PQclear(err);
}

/* The events filter as a SQL array literal: {started,prompt,...}. */
static void
outbox_events(unsigned bits, char *buf, size_t bufsz)
{
	size_t	o;
	int	e;

	o = (size_t)snprintf(buf, bufsz, "{");
	for (e = 0; e < CFG_HOOK__COUNT && o < bufsz; e++)
		if (bits & (1u << e))
			o += (size_t)snprintf(buf + o, bufsz - o, "%s%s",
			    o > 1 ? "," : "", cfg_hook_event_name(e));
	if (o < bufsz)
		snprintf(buf + o, bufsz - o, "}");
}

int
outbox_register(PGconn *conn, const struct cfg *c)
{
	PGresult	*res, *err = NULL;
	char		 events[128];
	const char	*p[2] = { c->hooks_name, events };

	outbox_events(c->hooks_events, events, sizeof(events));
	if ((res = db_exec(conn, "SELECT spiderpig.hooks_register($1, "
	    "$2::text[])", 2, p, &err)) == NULL) {
		outbox_warn("hooks_register", conn, err);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
outbox_claim(PGconn *conn, const struct cfg *c, struct outbox_row *row)
{
	PGresult	*res, *err = NULL;
	char		 attempts[16], lease[32];
	const char	*p[3] = { c->hooks_name, attempts, lease };
	long long	 n;
	const char	*why;

	memset(row, 0, sizeof(*row));
	snprintf(attempts, sizeof(attempts), "%d", c->hooks_max_attempts);
	/* Long enough for the whole send: a row is not claimed again
	 * before its sender had time to answer. */
	snprintf(lease, sizeof(lease), "%d seconds", c->hooks_timeout + 30);
	res = db_exec(conn, "SELECT id, event, payload, attempts FROM "
	    "spiderpig.hooks_claim($1, $2::integer, $3::interval)",
	    3, p, &err);
	if (res == NULL) {
		outbox_warn("hooks_claim", conn, err);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	if (util_strtonum(PQgetvalue(res, 0, 0), 1, INT64_MAX, &n,
	    &why) == -1)
		goto bad;
	row->id = n;
	if (util_strtonum(PQgetvalue(res, 0, 3), 1, 1000000, &n, &why) == -1)
		goto bad;
	row->attempt = (int)n;
	if ((row->event = strdup(PQgetvalue(res, 0, 1))) == NULL ||
	    (row->payload = strdup(PQgetvalue(res, 0, 2))) == NULL)
		goto bad;
	PQclear(res);
	return 1;
bad:
	log_warn("hooks_claim: an answer we cannot read");
	outbox_row_free(row);
	PQclear(res);
	return -1;
}

/* Run one of the recording functions with the receiver, the row's id and
 * attempt first. */
static int
outbox_record(PGconn *conn, const struct cfg *c, const char *sql,
    const char *what, const struct outbox_row *row, const char *error,
    const char *retry)
{
	PGresult	*res, *err = NULL;
	char		 id[24], attempt[16];
	const char	*p[5] = { c->hooks_name, id, attempt, error, retry };

	snprintf(id, sizeof(id), "%lld", row->id);
	snprintf(attempt, sizeof(attempt), "%d", row->attempt);
	if ((res = db_exec(conn, sql, error != NULL ? 5 : 3, p,
	    &err)) == NULL) {
		outbox_warn(what, conn, err);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
outbox_delivered(PGconn *conn, const struct cfg *c,
    const struct outbox_row *row)
{
	return outbox_record(conn, c, "SELECT spiderpig.hooks_delivered($1, "
	    "$2::bigint, $3::integer)", "hooks_delivered", row, NULL, NULL);
}

int
outbox_failed(PGconn *conn, const struct cfg *c, const struct outbox_row *row,
    const char *error, int retry_ms)
{
	char	retry[16];

	snprintf(retry, sizeof(retry), "%d", retry_ms);
	return outbox_record(conn, c, "SELECT spiderpig.hooks_failed($1, "
	    "$2::bigint, $3::integer, $4, $5::integer)", "hooks_failed", row,
	    error, retry_ms < 0 ? NULL : retry);
}

long long
outbox_next_due(PGconn *conn, const struct cfg *c)
{
	PGresult	*res, *err = NULL;
	long long	 n = -1;
	const char	*why;
	const char	*p[1] = { c->hooks_name };

	if ((res = db_exec(conn, "SELECT spiderpig.hooks_next_due($1)", 1, p,
	    &err)) == NULL) {
		outbox_warn("hooks_next_due", conn, err);
		return -2;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    util_strtonum(PQgetvalue(res, 0, 0), 0, INT64_MAX, &n,
	    &why) == -1)
		n = -2;
	PQclear(res);
	return n;
}

long long
outbox_prune(PGconn *conn, int max_rows)
{
	PGresult	*res, *err = NULL;
	char		 max[16];
	const char	*p[1] = { max };
	long long	 n = -1;
	const char	*why;

	snprintf(max, sizeof(max), "%d", max_rows);
	if ((res = db_exec(conn, "SELECT spiderpig.hooks_prune($1::integer)",
	    1, p, &err)) == NULL) {
		outbox_warn("hooks_prune", conn, err);
		return -1;
	}
	if (PQntuples(res) != 1 || util_strtonum(PQgetvalue(res, 0, 0), 0,
	    INT64_MAX, &n, &why) == -1)
		n = -1;
	PQclear(res);
	return n;
}
