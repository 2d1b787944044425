/* metrics.c: GET /metrics, Prometheus text: the database's gauges and
 * counters (spiderpig.metrics(), sql/017) and this process's requests. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cgi.h"
#include "http.h"

/*
 * The request counters are the one piece of state shared by the serving
 * threads: per process by nature (each app process answers for itself,
 * labelled by nothing more), so they live here as relaxed atomics that a
 * request bumps without a lock. Routes past METRICS_ROUTES share the
 * "unmatched" row; statuses outside the list share "other".
 */
#define METRICS_ROUTES	128
static const int	 statuses[] = { 200, 201, 204, 303, 400, 401, 403,
			    404, 405, 409, 413, 415, 429, 500, 502, 503 };
#define NSTATUS		(sizeof(statuses) / sizeof(statuses[0]))
/* Latency bucket bounds in microseconds (le= in seconds). */
static const uint64_t	 bounds_us[] = { 1000, 2500, 5000, 10000, 25000,
			    50000, 100000, 250000, 500000, 1000000, 2500000 };
#define NBOUNDS		(sizeof(bounds_us) / sizeof(bounds_us[0]))

/* Rows: the routes, then unmatched, then /_auth. Columns: the statuses,
 * then other. */
static _Atomic uint_least64_t	 counts[METRICS_ROUTES + 2][NSTATUS + 1];
static _Atomic uint_least64_t	 buckets[NBOUNDS + 1];
static _Atomic uint_least64_t	 sum_us;

/* The row of route rt (NULL: unmatched; auth: the /_auth check). */
static size_t
metrics_row(const struct route *rt, int auth)
{
	size_t	i, n = route_count();

	if (auth)
		return METRICS_ROUTES + 1;
	for (i = 0; rt != NULL && i < n && i < METRICS_ROUTES; i++)
		if (route_nth(i) == rt)
			return i;
	return METRICS_ROUTES;
}

void
metrics_record(const struct route *rt, int auth, int status,
    const struct timespec *start)
{
	struct timespec	 now;
	uint64_t	 us;
	size_t		 col, b;

	for (col = 0; col < NSTATUS && statuses[col] != status; col++)
		;
	atomic_fetch_add_explicit(&counts[metrics_row(rt, auth)][col], 1,
	    memory_order_relaxed);
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (uint64_t)(now.tv_sec - start->tv_sec) * 1000000u +
	    (uint64_t)((now.tv_nsec - start->tv_nsec) / 1000);
	if (now.tv_nsec < start->tv_nsec)
		us = (uint64_t)(now.tv_sec - start->tv_sec - 1) * 1000000u +
		    (uint64_t)((now.tv_nsec + 1000000000L - start->tv_nsec) / 1000);
	for (b = 0; b < NBOUNDS && us > bounds_us[b]; b++)
		;
	atomic_fetch_add_explicit(&buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sum_us, us, memory_order_relaxed);
}

/* Append printf output to the growing buffer *buf (len, cap); -1 when out
 * of memory. */
static int
buf_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
buf_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		if ((p = realloc(*buf, *cap * 2 + (size_t)n)) == NULL)
			return -1;
		*buf = p;
		*cap = *cap * 2 + (size_t)n;
	}
}

/* This process's request counters and latency histogram, after text. */
static int
metrics_app(char **buf, size_t *len, size_t *cap)
{
	const struct route	*rt;
	uint_least64_t		 v, cum = 0;
	size_t			 i, c, n = route_count();
	char			 st[16];
	const char		*method, *pattern;

	if (buf_add(buf, len, cap, "# HELP spiderpig_http_requests_total "
	    "Requests this app process answered, by route and status.\n"
	    "# TYPE spiderpig_http_requests_total counter\n") != 0)
		return -1;
	for (i = 0; i < METRICS_ROUTES + 2; i++) {
		if (i < METRICS_ROUTES && i >= n)
			continue;
		rt = i < n && i < METRICS_ROUTES ? route_nth(i) : NULL;
		method = rt != NULL ? rt->method : "";
		pattern = rt != NULL ? rt->pattern :
		    i == METRICS_ROUTES ? "unmatched" : "/_auth";
		for (c = 0; c <= NSTATUS; c++) {
			v = atomic_load_explicit(&counts[i][c],
			    memory_order_relaxed);
			if (v == 0)
				continue;
			if (c < NSTATUS)
				snprintf(st, sizeof(st), "%d", statuses[c]);
			else
				snprintf(st, sizeof(st), "other");
			if (buf_add(buf, len, cap, "spiderpig_http_requests_total"
			    "{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
			    method, pattern, st, (unsigned long long)v) != 0)
				return -1;
		}
	}
	if (buf_add(buf, len, cap, "# HELP spiderpig_http_request_duration_"
	    "seconds Time from a request's arrival in the app to its answer.\n"
	    "# TYPE spiderpig_http_request_duration_seconds histogram\n") != 0)
		return -1;
	for (i = 0; i <= NBOUNDS; i++) {
		cum += atomic_load_explicit(&buckets[i], memory_order_relaxed);
		if (i < NBOUNDS) {
			if (buf_add(buf, len, cap, "spiderpig_http_request_"
			    "duration_seconds_bucket{le=\"%g\"} %llu\n",
			    (double)bounds_us[i] / 1e6,
			    (unsigned long long)cum) != 0)
				return -1;
		} else if (buf_add(buf, len, cap, "spiderpig_http_request_"
		    "duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		    "spiderpig_http_request_duration_seconds_sum %.6f\n"
		    "spiderpig_http_request_duration_seconds_count %llu\n",
		    (unsigned long long)cum,
		    (double)atomic_load_explicit(&sum_us,
		    memory_order_relaxed) / 1e6,
		    (unsigned long long)cum) != 0)
			return -1;
	}
	return 0;
}

/*
 * Whether the request carries the scraper's token ([fcgi] metrics_token)
 * as its Bearer token; compared in constant time. The token reads
 * /metrics and nothing else.
 */
int
metrics_scraper(const struct req *r)
{
	const char	*want = r->cfg->fcgi_metrics_token, *authz, *tok;
	size_t		 len;

	if (want == NULL ||
	    (authz = FCGX_GetParam("HTTP_AUTHORIZATION", r->fcgx->envp)) == NULL ||
	    (tok = http_bearer_token(authz)) == NULL)
		return 0;
	len = strlen(tok);
	while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		len--;
	return len == strlen(want) && CRYPTO_memcmp(tok, want, len) == 0;
}

/*
 * GET /metrics, for admins (session or API token) and for the scraper's
 * token. The database's part first, then this process's counters.
 */
int
metrics_get(struct req *r)
{
	const char	*params[1] = { r->scraper ? NULL : r->user };
	PGresult	*res;
	char		*buf = NULL;
	size_t		 len = 0, cap = 8192;

	if (r->query[0] != '\0') {
		reply_problem(r, 400, NULL, "this resource takes no query "
		    "parameters");
		return 0;
	}
	if ((res = req_query(r, "SELECT spiderpig.metrics($1)", 1,
	    params)) == NULL)
		return 0;
	if ((buf = malloc(cap)) == NULL)
		goto fail;
	buf[0] = '\0';
	if (PQntuples(res) != 1 || buf_add(&buf, &len, &cap, "%s",
	    PQgetvalue(res, 0, 0)) != 0 || metrics_app(&buf, &len, &cap) != 0)
		goto fail;
	reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
	    len);
	PQclear(res);
	free(buf);
	return 0;
fail:
	PQclear(res);
	free(buf);
	reply_problem(r, 500, NULL, "internal error: out of memory");
	return 0;
}
