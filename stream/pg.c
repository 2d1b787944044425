/* pg.c: the daemon's one database connection. It LISTENs on spiderpig,
 * spiderpig_log and spiderpig_auth, sits in lws' event loop as a raw file
 * descriptor, and runs the stream_* read functions of sql/009 and the
 * socket count report of sql/020. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cfg.h"
#include "db.h"
#include "json.h"
#include "stream.h"
#include "util.h"

#define APPNAME		"spiderpig-stream"
#define RETRY_MIN_MS	250
#define RETRY_MAX_MS	5000

static const char *const channels[] = {
	"LISTEN spiderpig", "LISTEN spiderpig_log", "LISTEN spiderpig_auth",
};

static PGconn *
conn(void)
{
	return stream.pg;
}

int
pg_up(void)
{
	return stream.pg != NULL;
}

static void
pg_retry(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (pg_start() == 0)
		return;
	stream.pg_backoff_ms = stream.pg_backoff_ms == 0 ? RETRY_MIN_MS :
	    stream.pg_backoff_ms * 2;
	if (stream.pg_backoff_ms > RETRY_MAX_MS)
		stream.pg_backoff_ms = RETRY_MAX_MS;
	lws_sul_schedule(stream.ctx, 0, &stream.pg_retry, pg_retry,
	    (lws_usec_t)stream.pg_backoff_ms * LWS_US_PER_MS);
}

/*
 * Connect, LISTEN, and hand lws a duplicate of the socket (lws closes the
 * one it was given; libpq keeps its own). Everything announced while we
 * were away is refetched. Returns 0, or -1 (retry later).
 */
int
pg_start(void)
{
	lws_sock_file_fd_type	fd;
	PGresult		*res;
	size_t			 i;
	int			 dupfd;

	if ((stream.pg = db_connect(stream.cfg->db_stream, APPNAME)) == NULL)
		return -1;
	for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		if ((res = db_exec(conn(), channels[i], 0, NULL, NULL)) == NULL)
			goto fail;
		PQclear(res);
	}
	if ((dupfd = fcntl(PQsocket(conn()), F_DUPFD_CLOEXEC, 3)) == -1)
		goto fail;
	fd.filefd = dupfd;
	stream.pg_wsi = lws_adopt_descriptor_vhost(stream.vhost,
	    LWS_ADOPT_RAW_FILE_DESC, fd, "spiderpig-pg", NULL);
	if (stream.pg_wsi == NULL) {
		close(dupfd);
		goto fail;
	}
	stream.pg_backoff_ms = 0;
	log_info("listening on the database");
	fanout_resync();
	return 0;
fail:
	log_warn("database: %s", PQerrorMessage(conn()));
	PQfinish(conn());
	stream.pg = NULL;
	return -1;
}

void
pg_stop(void)
{
	lws_sul_cancel(&stream.pg_retry);
	if (stream.pg_wsi != NULL) {
		struct lws *w = stream.pg_wsi;

		stream.pg_wsi = NULL;
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	PQfinish(conn());
	stream.pg = NULL;
}

void
pg_lost(void)
{
	if (stream.pg != NULL) {
		log_warn("lost the database connection: retrying");
		pg_stop();
	}
	lws_sul_schedule(stream.ctx, 0, &stream.pg_retry, pg_retry,
	    (lws_usec_t)RETRY_MIN_MS * LWS_US_PER_MS);
}

/* One notification: dispatch it by channel. Payloads come from our own
 * SQL (log_event, the worker, sql/009); a malformed one is skipped. */
static void
pg_notification(const PGnotify *n)
{
	cJSON		*doc, *dep, *seq, *ev, *user;
	long long	 d = 0, s = 0, t = 0;
	size_t		 at;

	if ((doc = json_parse_exact(n->extra, strlen(n->extra), &at)) == NULL)
		return;
	dep = cJSON_GetObjectItemCaseSensitive(doc, "deployment");
	ev = cJSON_GetObjectItemCaseSensitive(doc, "event");
	if (dep != NULL && !cJSON_IsNull(dep) &&
	    json_integer(dep, 1, INT64_MAX, &d) != 0)
		goto out;
	if (strcmp(n->relname, "spiderpig_log") == 0) {
		seq = cJSON_GetObjectItemCaseSensitive(doc, "seq");
		if (d > 0 && json_integer(seq, 1, INT64_MAX, &s) == 0)
			fanout_log(d, s);
	} else if (strcmp(n->relname, "spiderpig") == 0) {
		fanout_event(d, cJSON_IsString(ev) ? ev->valuestring : NULL);
	} else if (strcmp(n->relname, "spiderpig_auth") == 0) {
		user = cJSON_GetObjectItemCaseSensitive(doc, "user");
		if (cJSON_GetObjectItemCaseSensitive(doc, "token") != NULL &&
		    json_integer(cJSON_GetObjectItemCaseSensitive(doc,
		    "token"), 1, INT64_MAX, &t) != 0)
			goto out;
		fanout_auth(cJSON_IsString(ev) ? ev->valuestring : NULL,
		    cJSON_IsString(user) ? user->valuestring : NULL, t);
	}
out:
	cJSON_Delete(doc);
}

static void
pg_drain(void)
{
	PGnotify	*n;

	while (stream.pg != NULL && (n = PQnotifies(conn())) != NULL) {
		pg_notification(n);
		PQfreemem(n);
	}
}

int
pg_readable(void)
{
	if (stream.pg == NULL)
		return -1;
	if (!PQconsumeInput(conn()) || PQstatus(conn()) != CONNECTION_OK) {
		pg_lost();
		return 0;
	}
	pg_drain();
	return 0;
}

/* Run a read function; NULL on failure (with *errp when the server said
 * why, else the connection is dropped). Notifications that arrived with
 * the answer are handled after it. */
static PGresult *
pg_call(const char *sql, int n, const char *const *params, PGresult **errp)
{
	PGresult	*res, *err = NULL;

	if (errp != NULL)
		*errp = NULL;
	if (stream.pg == NULL)
		return NULL;
	if ((res = db_exec(conn(), sql, n, params, &err)) == NULL) {
		if (err != NULL && PQstatus(conn()) == CONNECTION_OK &&
		    errp != NULL) {
			*errp = err;
			return NULL;
		}
		if (err != NULL)
			log_warn("%s: %s", sql, PQresultErrorMessage(err));
		PQclear(err);
		if (PQstatus(conn()) != CONNECTION_OK)
			pg_lost();
		return NULL;
	}
	pg_drain();
	return res;
}

static char *
pg_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    strdup(PQgetvalue(res, row, col));
}

int
pg_log_page(const char *viewer, int64_t deployment, int64_t after,
    int64_t upto, int reveal, int64_t *last, char **lines)
{
	char		 d[24], a[24], u[24], ml[16], mb[16];
	const char	*params[7] = { viewer, d, a, u, reveal ? "t" : "f",
			    ml, mb };
	PGresult	*res;
	long long	 n = 0;
	const char	*errstr;

	*last = 0;
	*lines = NULL;
	snprintf(d, sizeof(d), "%lld", (long long)deployment);
	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(u, sizeof(u), "%lld", (long long)upto);
	snprintf(ml, sizeof(ml), "%d", STREAM_PAGE_LINES);
	snprintf(mb, sizeof(mb), "%d", STREAM_PAGE_BYTES);
	if ((res = pg_call("SELECT last_seq, lines FROM spiderpig.stream_log("
	    "$1, $2::bigint, $3::bigint, $4::bigint, $5::boolean, $6::int, "
	    "$7::int)", 7, params, NULL)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    util_strtonum(PQgetvalue(res, 0, 0), 1, INT64_MAX, &n,
	    &errstr) == 0)
		*last = n;
	if (PQntuples(res) == 1)
		*lines = pg_text(res, 0, 1);
	PQclear(res);
	if (*lines == NULL && (*lines = strdup("[]")) == NULL)
		return -1;
	return 0;
}

int
pg_watch(const char *viewer, int64_t deployment, int64_t *last_seq,
    int *may_reveal, char **summary, char *why, size_t whysz)
{
	char		 d[24];
	const char	*params[2] = { viewer, d };
	const char	*errstr, *msg;
	PGresult	*res, *err;
	long long	 n;
	int		 st;

	*summary = NULL;
	snprintf(d, sizeof(d), "%lld", (long long)deployment);
	res = pg_call("SELECT last_seq, may_reveal, summary FROM "
	    "spiderpig.stream_watch($1, $2::bigint)", 2, params, &err);
	if (res == NULL && err == NULL)
		return -1;
	if (res == NULL) {
		st = db_error_status(err);
		msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(why, whysz, "%s", msg != NULL && st != 500 ? msg :
		    "the stream could not read this deployment");
		PQclear(err);
		return st == 503 ? -1 : st;
	}
	st = 500;
	snprintf(why, whysz, "the stream could not read this deployment");
	if (PQntuples(res) == 1 && util_strtonum(PQgetvalue(res, 0, 0), 0,
	    INT64_MAX, &n, &errstr) == 0 &&
	    (*summary = pg_text(res, 0, 2)) != NULL) {
		*last_seq = n;
		*may_reveal = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		st = 0;
	}
	PQclear(res);
	return st;
}

char *
pg_deployment(int64_t deployment)
{
	char		 d[24];
	const char	*params[1] = { d };
	PGresult	*res;
	char		*js = NULL;

	snprintf(d, sizeof(d), "%lld", (long long)deployment);
	if ((res = pg_call("SELECT spiderpig.stream_deployment($1::bigint)",
	    1, params, NULL)) == NULL)
		return NULL;
	if (PQntuples(res) == 1)
		js = pg_text(res, 0, 0);
	PQclear(res);
	return js;
}

char *
pg_overview(void)
{
	PGresult	*res;
	char		*js = NULL;

	if ((res = pg_call("SELECT spiderpig.stream_overview()", 0, NULL,
	    NULL)) == NULL)
		return NULL;
	if (PQntuples(res) == 1)
		js = pg_text(res, 0, 0);
	PQclear(res);
	return js;
}

int
pg_report(const char *instance, const char *host, long pid,
    size_t connections)
{
	char		 p[24], n[24];
	const char	*params[4] = { instance, host, p, n };
	PGresult	*res;

	snprintf(p, sizeof(p), "%ld", pid);
	snprintf(n, sizeof(n), "%zu", connections);
	if ((res = pg_call("SELECT spiderpig.stream_report($1, $2, $3::int, "
	    "$4::int)", 4, params, NULL)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}
