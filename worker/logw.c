/* logw.c: a writer thread that stores captured lines with COPY in batches. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "lines.h"
#include "logw.h"
#include "mask.h"
#include "util.h"

#define LOGW_CHUNK	(1024 * 1024)
#define LOGW_OUTSZ	(COPY_ESCAPE_MAX(LINES_MAX) + 256 * 1024)

/* One queued line; records are packed 8-byte aligned in chunks. */
struct logrec {
	int64_t		 deployment;
	int64_t		 seq;
	int64_t		 at;
	uint32_t	 len;
	uint8_t		 stream;
	char		 data[];
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
	struct mask	*mask;
	int		 batch_lines;
	int		 flush_ms;
	PGconn		*conn;
	char		*out;
	size_t		 outlen;
};

static const char *stream_names[] = { "stdout", "stderr", "system" };

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
    enum logw_stream stream, const char *line, size_t len)
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

static void
logw_format(struct logw *w, const struct logrec *r)
{
	char	*d = w->out + w->outlen;
	int	 n;

	n = snprintf(d, 64, "%lld\t%lld\t", (long long)r->deployment,
	    (long long)r->seq);
	d += n;
	d += copy_format_time(d, r->at);
	n = snprintf(d, 32, "\t%s\t%c\t", stream_names[r->stream],
	    mask_match(w->mask, r->data, r->len) ? 't' : 'f');
	d += n;
	d += copy_escape(d, r->data, r->len);
	*d++ = '\n';
	w->outlen = (size_t)(d - w->out);
}

/*
 * One COPY of every line in the chunk list. Returns 0 when stored, -1 when
 * the connection failed (worth a retry), -2 when the server refused the data
 * (a retry would fail the same way).
 */
static int
logw_copy(struct logw *w, struct chunk *batch)
{
	PGresult	*res;
	struct chunk	*c;
	size_t		 off;
	const char	*state;
	int		 rc = -1;

	res = PQexec(w->conn, "COPY spiderpig.log_lines (deployment_id, seq, "
	    "at, stream, sensitive, line) FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_warn("log writer: COPY: %s", PQerrorMessage(w->conn));
		PQclear(res);
		return PQstatus(w->conn) == CONNECTION_OK ? -2 : -1;
	}
	PQclear(res);
	w->outlen = 0;
	for (c = batch; c != NULL; c = c->next) {
		for (off = 0; off < c->used; ) {
			const struct logrec *r =
			    (const struct logrec *)(const void *)(c->data + off);

			if (w->outlen + COPY_ESCAPE_MAX(r->len) + 256 >
			    LOGW_OUTSZ && logw_send(w) == -1)
				goto out;
			logw_format(w, r);
			off += (sizeof(*r) + r->len + 7) & ~(size_t)7;
		}
	}
	if (logw_send(w) == -1 || PQputCopyEnd(w->conn, NULL) != 1)
		goto out;
	while ((res = PQgetResult(w->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			rc = 0;
		else {
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			log_warn("log writer: COPY failed: %s",
			    PQresultErrorMessage(res));
			/* Connection-class errors and shutdowns are retried. */
			rc = state != NULL && strncmp(state, "08", 2) != 0 &&
			    strncmp(state, "57P", 3) != 0 ? -2 : -1;
		}
		PQclear(res);
	}
out:
	if (rc == -1 && PQstatus(w->conn) == CONNECTION_OK &&
	    PQtransactionStatus(w->conn) != PQTRANS_IDLE) {
		/* Half-sent COPY on a live connection: start afresh. */
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
		/* copy_escape() makes UTF-8: say so whatever the locale. */
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
logw_start(const char *conninfo, struct mask *mask, int batch_lines,
    int flush_ms)
{
	struct logw		*w;
	pthread_condattr_t	 ca;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->mask = mask;
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
	w->mask = NULL;		/* the caller still owns it */
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
	mask_free(w->mask);
	free(w->conninfo);
	free(w->out);
	free(w);
}
