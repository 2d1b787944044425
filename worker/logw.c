/* logw.c: a writer thread that stores captured lines with COPY (binary
 * format) in batches, and announces each committed batch with NOTIFY
 * spiderpig_log. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "db.h"
#include "lines.h"
#include "logw.h"
#include "mask.h"
#include "util.h"

#define LOGW_CHUNK	(1024 * 1024)
#define LOGW_OUTSZ	(COPY_ESCAPE_MAX(LINES_MAX) + 256 * 1024)
/* The channel a committed batch is announced on (doc/contract.md). */
#define LOGW_CHANNEL	"spiderpig_log"

/* One queued line; records are packed 8-byte aligned in chunks. */
struct logrec {
	int64_t		 deployment;
	int64_t		 seq;
	int64_t		 at;
	uint32_t	 len;
	uint8_t		 stream;
	uint8_t		 sensitive;
	char		 data[];
};

/* The last seq of one deployment in the batch being written. */
struct logw_last {
	int64_t		 deployment;
	int64_t		 seq;
};

struct chunk {
	struct chunk	*next;
	size_t		 used;
	size_t		 cap;
	char		 data[];
};

struct logw {
	pthread_mutex_t	 mu;
	pthread_cond_t	 wake;		/* writer: lines, flush or stop */
	pthread_cond_t	 done;		/* flushers: a batch was written */
	pthread_t	 thread;
	int		 started;

	/* Guarded by mu. */
	struct chunk	*head, *tail;
	size_t		 bytes;		/* queued + being written */
	size_t		 pending;	/* lines queued, not yet taken */
	uint64_t	 put;		/* lines ever queued */
	uint64_t	 written;	/* lines ever written or given up on */
	int64_t		 first_ms;	/* when the oldest pending line came */
	int		 flush_req;
	int		 stop;
	int64_t		 stop_deadline;

	/* Constant after start, or owned by the writer thread. */
	char		*conninfo;
	int		 batch_lines;
	int		 flush_ms;
	PGconn		*conn;
	char		*out;
	size_t		 outlen;
	struct logw_last *last;		/* per deployment in the batch */
	size_t		 nlast, lastcap;
};

static const char *stream_names[] = { "stdout", "stderr", "system" };

/* COPY binary: the file header (signature, flags, no extension) and the
 * trailer. Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
#define COPY_TRAILER		"\377\377"
#define PG_EPOCH_USEC		INT64_C(946684800000000)
/* The fields of a row: 2 + 6 lengths + 3 int8 + stream + bool. */
#define LOGW_ROW_OVERHEAD	64

int64_t
logw_now_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
logw_deadline(struct timespec *ts, int64_t at_ms)
{
	ts->tv_sec = at_ms / 1000;
	ts->tv_nsec = (at_ms % 1000) * 1000000;
}

static void
chunks_free(struct chunk *c)
{
	struct chunk	*next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

int
logw_put(struct logw *w, int64_t deployment, int64_t seq, int64_t at,
    enum logw_stream stream, int sensitive, const char *line, size_t len)
{
	struct chunk	*c;
	struct logrec	*r;
	size_t		 need, cap;
	int		 rc = -1;

	if (len > LINES_MAX)
		len = LINES_MAX;
	need = (sizeof(*r) + len + 7) & ~(size_t)7;
	pthread_mutex_lock(&w->mu);
	c = w->tail;
	if (c == NULL || c->cap - c->used < need) {
		cap = need > LOGW_CHUNK ? need : LOGW_CHUNK;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			goto out;
		c->next = NULL;
		c->used = 0;
		c->cap = cap;
		if (w->tail != NULL)
			w->tail->next = c;
		else
			w->head = c;
		w->tail = c;
		w->bytes += cap;
	}
	r = (struct logrec *)(void *)(c->data + c->used);
	r->deployment = deployment;
	r->seq = seq;
	r->at = at;
	r->len = (uint32_t)len;
	r->stream = (uint8_t)stream;
	r->sensitive = sensitive != 0;
	memcpy(r->data, line, len);
	c->used += need;
	w->put++;
	if (w->pending++ == 0) {
		w->first_ms = util_now_ms();
		pthread_cond_signal(&w->wake);
	} else if (w->pending == (size_t)w->batch_lines)
		pthread_cond_signal(&w->wake);
	rc = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void
logw_say(struct logw_sink *s, const char *fmt, ...)
{
	char	 buf[4096];
	va_list	 ap;
	int	 n, sensitive;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* Star out literal secrets before the line goes anywhere. */
	sensitive = mask_line(s->mask, buf, (size_t)n);
	log_info("deployment %lld: %s", (long long)s->deployment, buf);
	logw_put(s->logw, s->deployment, ++s->seq, logw_now_usec(),
	    LOGW_SYSTEM, sensitive, buf, (size_t)n);
}

int
logw_full(struct logw *w)
{
	int	full;

	pthread_mutex_lock(&w->mu);
	full = w->bytes > LOGW_MAX_BYTES;
	pthread_mutex_unlock(&w->mu);
	return full;
}

int
logw_flush(struct logw *w, int timeout_ms)
{
	struct timespec	 ts;
	uint64_t	 target;
	int		 rc = 0;

	pthread_mutex_lock(&w->mu);
	target = w->put;
	logw_deadline(&ts, util_now_ms() + timeout_ms);
	while (w->written < target) {
		w->flush_req = 1;
		pthread_cond_signal(&w->wake);
		if (pthread_cond_timedwait(&w->done, &w->mu, &ts) == ETIMEDOUT) {
			rc = w->written < target ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Send what is in w->out as COPY data. 0 or -1 (connection trouble). */
static int
logw_send(struct logw *w)
{
	if (w->outlen == 0)
		return 0;
	if (PQputCopyData(w->conn, w->out, (int)w->outlen) != 1)
		return -1;
	w->outlen = 0;
	return 0;
}

/* Append a big-endian integer of n bytes. */
static char *
put_be(char *d, uint64_t v, int n)
{
	int	i;

	for (i = n - 1; i >= 0; i--)
		*d++ = (char)((v >> (8 * i)) & 0xff);
	return d;
}

/*
 * One row in COPY binary format: deployment_id, seq, at (int8
 * microseconds since 2000), stream, sensitive, line. The server parses no
 * text for the numbers and the time, which made a COPY of a million lines
 * a third faster than the text format.
 */
static void
logw_format(struct logw *w, const struct logrec *r)
{
	const char	*stream = stream_names[r->stream];
	char		*d = w->out + w->outlen, *lenp;
	size_t		 n;

	d = put_be(d, 6, 2);
	d = put_be(d, 8, 4);
	d = put_be(d, (uint64_t)r->deployment, 8);
	d = put_be(d, 8, 4);
	d = put_be(d, (uint64_t)r->seq, 8);
	d = put_be(d, 8, 4);
	d = put_be(d, (uint64_t)(r->at - PG_EPOCH_USEC), 8);
	n = strlen(stream);
	d = put_be(d, n, 4);
	memcpy(d, stream, n);
	d += n;
	d = put_be(d, 1, 4);
	*d++ = r->sensitive ? 1 : 0;
	lenp = d;
	d += 4;
	n = copy_clean(d, r->data, r->len);
	put_be(lenp, n, 4);
	d += n;
	w->outlen = (size_t)(d - w->out);
}

/* Remember r's seq as the newest of its deployment in this batch.
 * Returns 0, or -1 when out of memory. */
static int
logw_track(struct logw *w, const struct logrec *r)
{
	struct logw_last	*p;
	size_t			 i, cap;

	for (i = 0; i < w->nlast; i++)
		if (w->last[i].deployment == r->deployment) {
			if (r->seq > w->last[i].seq)
				w->last[i].seq = r->seq;
			return 0;
		}
	if (w->nlast == w->lastcap) {
		cap = w->lastcap ? 2 * w->lastcap : 8;
		if ((p = realloc(w->last, cap * sizeof(*p))) == NULL)
			return -1;
		w->last = p;
		w->lastcap = cap;
	}
	w->last[w->nlast].deployment = r->deployment;
	w->last[w->nlast].seq = r->seq;
	w->nlast++;
	return 0;
}

/* -1 when a failed result is worth a retry (the connection broke or the
 * server is shutting down), -2 when the same data would fail again. */
static int
logw_failure(PGconn *conn, const PGresult *res)
{
	const char	*state;

	if (res == NULL || PQstatus(conn) != CONNECTION_OK)
		return -1;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state != NULL && strncmp(state, "08", 2) != 0 &&
	    strncmp(state, "57P", 3) != 0 ? -2 : -1;
}

/*
 * Inside the batch's transaction: pg_notify('spiderpig_log',
 * '{"deployment":D,"seq":S}') once per deployment in the batch, S its
 * highest seq there. Listeners get it at COMMIT, never before the rows.
 * Returns 0, -1 (retry) or -2 (refused).
 */
static int
logw_notify(struct logw *w)
{
	const char	*params[2] = { LOGW_CHANNEL, NULL };
	PGresult	*res, *err = NULL;
	cJSON		*o;
	char		*payload;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < w->nlast && rc == 0; i++) {
		o = cJSON_CreateObject();
		if (o == NULL || cJSON_AddNumberToObject(o, "deployment",
		    (double)w->last[i].deployment) == NULL ||
		    cJSON_AddNumberToObject(o, "seq",
		    (double)w->last[i].seq) == NULL ||
		    (payload = cJSON_PrintUnformatted(o)) == NULL) {
			cJSON_Delete(o);
			return -1;
		}
		cJSON_Delete(o);
		params[1] = payload;
		res = db_exec(w->conn, "select pg_notify($1, $2)", 2, params,
		    &err);
		if (res == NULL) {
			log_warn("log writer: NOTIFY: %s", err != NULL ?
			    PQresultErrorMessage(err) : PQerrorMessage(w->conn));
			rc = logw_failure(w->conn, err);
			PQclear(err);
		}
		PQclear(res);
		cJSON_free(payload);
	}
	return rc;
}

/* Send every line of the chunk list as COPY data and end the COPY. Returns
 * 0, -1 (retry) or -2 (refused). */
static int
logw_copy_data(struct logw *w, struct chunk *batch)
{
	PGresult	*res;
	struct chunk	*c;
	size_t		 off;
	int		 rc = -1;

	memcpy(w->out, copy_header, sizeof(copy_header));
	w->outlen = sizeof(copy_header);
	w->nlast = 0;
	for (c = batch; c != NULL; c = c->next) {
		for (off = 0; off < c->used; ) {
			const struct logrec *r =
			    (const struct logrec *)(const void *)(c->data + off);

			if (w->outlen + COPY_ESCAPE_MAX(r->len) +
			    LOGW_ROW_OVERHEAD > LOGW_OUTSZ && logw_send(w) == -1)
				return -1;
			if (logw_track(w, r) == -1)
				return -1;
			logw_format(w, r);
			off += (sizeof(*r) + r->len + 7) & ~(size_t)7;
		}
	}
	memcpy(w->out + w->outlen, COPY_TRAILER, 2);
	w->outlen += 2;
	if (logw_send(w) == -1 || PQputCopyEnd(w->conn, NULL) != 1)
		return -1;
	while ((res = PQgetResult(w->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			rc = 0;
		else {
			log_warn("log writer: COPY failed: %s",
			    PQresultErrorMessage(res));
			rc = logw_failure(w->conn, res);
		}
		PQclear(res);
	}
	return rc;
}

/* Run a transaction-control statement; 0 when the server answers with
 * exactly that command tag ("COMMIT" on an aborted transaction answers
 * "ROLLBACK"), else -1. */
static int
logw_tx(struct logw *w, const char *sql)
{
	PGresult	*res = PQexec(w->conn, sql);
	int		 rc;

	rc = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), sql) == 0 ? 0 : -1;
	if (rc == -1)
		log_warn("log writer: %s: %s", sql, PQerrorMessage(w->conn));
	PQclear(res);
	return rc;
}

/*
 * One transaction per batch: BEGIN, one COPY of every line in the chunk
 * list, the NOTIFYs, COMMIT. Returns 0 when stored, -1 when the connection
 * failed (worth a retry), -2 when the server refused the data (a retry
 * would fail the same way). On failure the connection is dropped when a
 * transaction is still open on it, which rolls it back.
 */
static int
logw_copy(struct logw *w, struct chunk *batch)
{
	PGresult	*res;
	int		 rc = -1;

	if (logw_tx(w, "BEGIN") == -1)
		goto out;
	res = PQexec(w->conn, "COPY spiderpig.log_lines (deployment_id, seq, "
	    "at, stream, sensitive, line) FROM STDIN WITH (FORMAT binary)");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_warn("log writer: COPY: %s", PQerrorMessage(w->conn));
		rc = logw_failure(w->conn, res);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if ((rc = logw_copy_data(w, batch)) != 0 ||
	    (rc = logw_notify(w)) != 0)
		goto out;
	rc = logw_tx(w, "COMMIT");
out:
	if (rc != 0 && w->conn != NULL && (PQstatus(w->conn) != CONNECTION_OK ||
	    PQtransactionStatus(w->conn) != PQTRANS_IDLE)) {
		PQfinish(w->conn);
		w->conn = NULL;
	}
	return rc;
}

/*
 * Store a batch, retrying with backoff while the database is unreachable.
 * Gives up (losing the batch, with a warning) when the server refuses the
 * data, or when stopping and the stop deadline has passed.
 */
static void
logw_write(struct logw *w, struct chunk *batch, size_t n)
{
	int64_t	 backoff = 100;
	int	 rc, stopping;
	int64_t	 deadline;

	PGconn	*old;

	for (;;) {
		old = w->conn;
		w->conn = db_ensure(w->conn, w->conninfo, "spiderpig-worker-log");
		/* copy_clean() makes UTF-8: say so whatever the locale. */
		if (w->conn != NULL && w->conn != old &&
		    PQsetClientEncoding(w->conn, "UTF8") != 0)
			log_warn("log writer: cannot set client_encoding UTF8");
		if (w->conn != NULL) {
			if ((rc = logw_copy(w, batch)) == 0)
				return;
			if (rc == -2) {
				log_warn("log writer: dropped %zu lines", n);
				return;
			}
		}
		pthread_mutex_lock(&w->mu);
		stopping = w->stop;
		deadline = w->stop_deadline;
		pthread_mutex_unlock(&w->mu);
		if (stopping && util_now_ms() >= deadline) {
			log_warn("log writer: database unreachable at exit, "
			    "dropped %zu lines", n);
			return;
		}
		struct timespec ts = { backoff / 1000, (backoff % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		if (backoff < 2000)
			backoff *= 2;
	}
}

static void *
logw_main(void *arg)
{
	struct logw	*w = arg;
	struct chunk	*batch, *c;
	struct timespec	 ts;
	size_t		 n, freed;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->wake, &w->mu);
		if (w->head == NULL)
			break;
		/* Let a batch fill up, but no longer than flush_ms. */
		logw_deadline(&ts, w->first_ms + w->flush_ms);
		while (!w->stop && !w->flush_req &&
		    w->pending < (size_t)w->batch_lines &&
		    util_now_ms() < w->first_ms + w->flush_ms)
			pthread_cond_timedwait(&w->wake, &w->mu, &ts);
		batch = w->head;
		n = w->pending;
		w->head = w->tail = NULL;
		w->pending = 0;
		w->flush_req = 0;
		pthread_mutex_unlock(&w->mu);

		logw_write(w, batch, n);
		for (freed = 0, c = batch; c != NULL; c = c->next)
			freed += c->cap;
		chunks_free(batch);

		pthread_mutex_lock(&w->mu);
		w->bytes -= freed;
		w->written += n;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct logw *
logw_start(const char *conninfo, int batch_lines, int flush_ms)
{
	struct logw		*w;
	pthread_condattr_t	 ca;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->batch_lines = batch_lines;
	w->flush_ms = flush_ms;
	if ((w->conninfo = strdup(conninfo)) == NULL ||
	    (w->out = malloc(LOGW_OUTSZ)) == NULL)
		goto fail;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	/* util_now_ms() is monotonic: the waits use the same clock. */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->done, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, logw_main, w) != 0)
		goto fail;
	w->started = 1;
	return w;
fail:
	logw_stop(w, 0);
	return NULL;
}

void
logw_stop(struct logw *w, int timeout_ms)
{
	if (w == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		w->stop_deadline = util_now_ms() + timeout_ms;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->done);
	}
	chunks_free(w->head);
	if (w->conn != NULL)
		PQfinish(w->conn);
	free(w->conninfo);
	free(w->out);
	free(w->last);
	free(w);
}
