/* canary.c: the built-in canary judge stage (kind = canary): look at the
 * canary hosts' and the other hosts' error counts every few seconds, feed
 * them to the judgement (lib/canary.c), write each look's numbers into the
 * log and the chart's samples, and stop at the verdict. A metrics source
 * that hangs, answers garbage or has no data never passes.
 *
 * Keys of [stage NAME] with kind = canary (defaults in brackets):
 *   judge = sequential | threshold          [sequential]
 *   source = prometheus | logstash
 *   url = BASE                              prometheus: https://host:port
 *                                           logstash: the _search URL
 *                                           (https; http:// only to a
 *                                           loopback address, lib/httpc)
 *   prometheus: canary_errors, canary_requests, control_errors,
 *     control_requests = PromQL             instant sums of counters; the
 *                                           judge counts from their values
 *                                           at the start
 *   logstash: canary_query, control_query   query_string queries counting
 *     = Q                                   error documents; exposure is
 *     canary_hosts, control_hosts = N       hosts x seconds
 *   window = 60  min_window = 20  interval = 2  (seconds)
 *   warmup = 0 (seconds before the first look: the metrics pipeline's lag,
 *     so that errors of the release before the sync, counted late, are
 *     not taken for the canaries')
 *   threshold = 10  alpha = 0.01  beta = 0.01  rho_bad = 2
 *   query_timeout = 3 (seconds per request)
 *   max_errors = 5 (failed looks in a row that fail the stage at once) */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "canary.h"
#include "httpc.h"
#include "metrics.h"
#include "notify.h"
#include "util.h"

enum canary_source {
	SOURCE_NONE,
	SOURCE_PROMETHEUS,
	SOURCE_LOGSTASH,
};

/* Query slots: prometheus uses all four, logstash the errors ones. */
enum { Q_CANARY_ERRORS, Q_CANARY_REQUESTS, Q_CONTROL_ERRORS,
    Q_CONTROL_REQUESTS, Q__COUNT };

static const char *const query_keys[2][Q__COUNT] = {
	{ "canary_errors", "canary_requests", "control_errors",
	    "control_requests" },
	{ "canary_query", NULL, "control_query", NULL },
};

struct canary_conf {
	struct canary_params p;
	enum canary_source source;
	const char	*url;
	const char	*q[2][Q__COUNT];	/* [0] prometheus, [1] logstash */
	double		 canary_hosts, control_hosts;
	double		 interval;
	double		 warmup;
	long		 query_timeout;
	int		 max_errors;
};

/* A whole finite number in [min, max] from v. */
static int
num(const char *v, double min, double max, double *out)
{
	char	*end;
	double	 d = strtod(v, &end);

	if (end == v || *end != '\0' || !isfinite(d) || d < min || d > max)
		return -1;
	*out = d;
	return 0;
}

/* One numeric key; 1 when k was it, 0 when not, -1 when out of range. */
static int
num_key(const char *k, const char *key, double min, double max, double *out,
    char *why, size_t whysz)
{
	const char	*v = builtin_opt(k, key);

	if (v == NULL)
		return 0;
	if (num(v, min, max, out) == -1) {
		snprintf(why, whysz, "%s must be a number from %g to %g", key,
		    min, max);
		return -1;
	}
	return 1;
}

/* One key of the stage into cc. */
static int
canary_key(struct canary_conf *cc, const char *k, char *why, size_t whysz)
{
	const struct { const char *key; double min, max; double *dst; } nums[] = {
		{ "window", 1, 3600, &cc->p.window },
		{ "min_window", 0, 3600, &cc->p.min_window },
		{ "threshold", 1, 1e12, &cc->p.threshold },
		{ "alpha", 1e-9, 0.49, &cc->p.alpha },
		{ "beta", 1e-9, 0.49, &cc->p.beta },
		{ "rho_bad", 1.01, 100, &cc->p.rho_bad },
		{ "interval", 0.2, 60, &cc->interval },
		{ "warmup", 0, 600, &cc->warmup },
		{ "canary_hosts", 1, 100000, &cc->canary_hosts },
		{ "control_hosts", 1, 100000, &cc->control_hosts },
	};
	const char	*v;
	double		 d;
	size_t		 i;
	int		 s, r;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((r = num_key(k, nums[i].key, nums[i].min, nums[i].max,
		    nums[i].dst, why, whysz)) != 0)
			return r == 1 ? 0 : -1;
	if ((r = num_key(k, "query_timeout", 1, 30, &d, why, whysz)) != 0) {
		cc->query_timeout = (long)d;
		return r == 1 ? 0 : -1;
	}
	if ((r = num_key(k, "max_errors", 1, 1000, &d, why, whysz)) != 0) {
		cc->max_errors = (int)d;
		return r == 1 ? 0 : -1;
	}
	if ((v = builtin_opt(k, "judge")) != NULL) {
		if (strcmp(v, "sequential") == 0)
			cc->p.kind = CANARY_SEQUENTIAL;
		else if (strcmp(v, "threshold") == 0)
			cc->p.kind = CANARY_THRESHOLD;
		else {
			snprintf(why, whysz, "judge is sequential or threshold");
			return -1;
		}
		return 0;
	}
	if ((v = builtin_opt(k, "source")) != NULL) {
		if (strcmp(v, "prometheus") == 0)
			cc->source = SOURCE_PROMETHEUS;
		else if (strcmp(v, "logstash") == 0)
			cc->source = SOURCE_LOGSTASH;
		else {
			snprintf(why, whysz, "source is prometheus or logstash");
			return -1;
		}
		return 0;
	}
	if ((v = builtin_opt(k, "url")) != NULL) {
		if (!util_url_ok(v, UTIL_URL_LOOPBACK_HTTP)) {
			snprintf(why, whysz, "url must be https:// (http:// "
			    "only to a loopback address)");
			return -1;
		}
		cc->url = v;
		return 0;
	}
	for (s = 0; s < 2; s++)
		for (i = 0; i < Q__COUNT; i++)
			if (query_keys[s][i] != NULL &&
			    (v = builtin_opt(k, query_keys[s][i])) != NULL) {
				cc->q[s][i] = v;
				return 0;
			}
	snprintf(why, whysz, "unknown key '%.*s'", (int)strcspn(k, "="), k);
	return -1;
}

/* Parse and check the stage's keys. */
static int
canary_conf_parse(char *const *opts, size_t nopts, struct canary_conf *cc,
    char *why, size_t whysz)
{
	struct canary_judge j;
	size_t	 i;
	int	 s;

	memset(cc, 0, sizeof(*cc));
	canary_params_default(&cc->p);
	cc->interval = 2;
	cc->query_timeout = 3;
	cc->max_errors = 5;
	for (i = 0; i < nopts; i++)
		if (canary_key(cc, opts[i], why, whysz) == -1)
			return -1;
	if (cc->source == SOURCE_NONE || cc->url == NULL) {
		snprintf(why, whysz, "needs source and url");
		return -1;
	}
	s = cc->source == SOURCE_LOGSTASH;
	if (s)
		cc->p.exposure = "host-seconds";
	for (i = 0; i < Q__COUNT; i++)
		if (query_keys[s][i] != NULL && cc->q[s][i] == NULL) {
			snprintf(why, whysz, "source %s needs %s", s ?
			    "logstash" : "prometheus", query_keys[s][i]);
			return -1;
		}
	if (s && (cc->canary_hosts == 0 || cc->control_hosts == 0)) {
		snprintf(why, whysz, "source logstash needs canary_hosts and "
		    "control_hosts");
		return -1;
	}
	return canary_judge_init(&j, &cc->p, why, whysz);
}

int
canary_check(char *const *opts, size_t nopts, char *why, size_t whysz)
{
	struct canary_conf cc;

	return canary_conf_parse(opts, nopts, &cc, why, whysz);
}

/* GET url (json NULL) or POST json to it through lib/httpc, within the
 * stage's query timeout; 0 with the body of a 200 answer in r, else -1
 * with why (r released). */
static int
fetch(const struct canary_conf *cc, const char *url, const char *json,
    struct httpc_response *r, char *why, size_t whysz)
{
	int	status;

	status = httpc_json(url, HTTPC_ALLOW_LOOPBACK_HTTP, NULL, NULL, json,
	    METRICS_BODY_MAX, cc->query_timeout, r, why, whysz);
	if (status == -1)
		return -1;
	if (status != 200) {
		snprintf(why, whysz, "HTTP status %d", status);
		httpc_response_free(r);
		return -1;
	}
	return 0;
}

/* One Prometheus instant query at time t; 0 with *v, else -1 with why. */
static int
prom_query(const struct canary_conf *cc, const char *q, double t, double *v,
    char *why, size_t whysz)
{
	struct httpc_response r;
	char		*base = NULL, *url = NULL, ts[32], pwhy[256];
	const char	*fields[] = { "query", q, "time", ts, NULL };
	size_t		 blen = strlen(cc->url);
	enum metrics_result mr;
	int		 rc = -1;

	snprintf(ts, sizeof(ts), "%.3f", t);
	while (blen > 0 && cc->url[blen - 1] == '/')
		blen--;
	if (asprintf(&base, "%.*s/api/v1/query", (int)blen, cc->url) == -1) {
		base = NULL;
		goto out;
	}
	if ((url = httpc_form_encode(base, '?', fields)) == NULL)
		goto out;
	if (fetch(cc, url, NULL, &r, why, whysz) == -1)
		goto out;
	mr = metrics_prom_parse(r.body, r.len, v, pwhy, sizeof(pwhy));
	httpc_response_free(&r);
	if (mr != METRICS_OK) {
		snprintf(why, whysz, "%s (query %.200s)", pwhy, q);
		goto out;
	}
	rc = 0;
out:
	free(base);
	free(url);
	return rc;
}

/* An RFC 3339 UTC time with milliseconds for epoch seconds t. */
static void
rfc3339(double t, char *buf, size_t bufsz)
{
	time_t		 s = (time_t)t;
	struct tm	 tm;
	char		 b[32];

	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, bufsz, "%s.%03dZ", b, (int)((t - (double)s) * 1000));
}

/* One log store count of q between since and until. */
static int
logstash_query(const struct canary_conf *cc, const char *q, double since,
    double until, double *v, char *why, size_t whysz)
{
	struct httpc_response r;
	char		*req, s[40], u[40], pwhy[256];
	enum metrics_result mr;
	int		 rc;

	rfc3339(since, s, sizeof(s));
	rfc3339(until, u, sizeof(u));
	if ((req = metrics_logstash_request(q, s, u)) == NULL)
		return -1;
	rc = fetch(cc, cc->url, req, &r, why, whysz);
	free(req);
	if (rc == -1)
		return -1;
	mr = metrics_logstash_parse(r.body, r.len, v, pwhy, sizeof(pwhy));
	httpc_response_free(&r);
	if (mr != METRICS_OK) {
		snprintf(why, whysz, "%s (query %.200s)", pwhy, q);
		return -1;
	}
	return 0;
}

static double
wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The state of one run: the start, Prometheus's baseline. */
struct canary_look {
	double	 start_wall;
	int	 have_base;
	double	 base[Q__COUNT];
};

/* Look once: the counts since the start into c, or -1 with why. */
static int
canary_look(const struct canary_conf *cc, struct canary_look *lk,
    double elapsed, struct canary_counts *c, char *why, size_t whysz)
{
	double	 v[Q__COUNT] = { 0, 0, 0, 0 }, now = wall_now();
	int	 i;

	if (cc->source == SOURCE_LOGSTASH) {
		if (logstash_query(cc, cc->q[1][Q_CANARY_ERRORS],
		    lk->start_wall, now, &c->canary_errors, why, whysz) == -1 ||
		    logstash_query(cc, cc->q[1][Q_CONTROL_ERRORS],
		    lk->start_wall, now, &c->control_errors, why, whysz) == -1)
			return -1;
		c->canary_requests = cc->canary_hosts * elapsed;
		c->control_requests = cc->control_hosts * elapsed;
		return 0;
	}
	for (i = 0; i < Q__COUNT; i++)
		if (prom_query(cc, cc->q[0][i], now, &v[i], why, whysz) == -1)
			return -1;
	if (!lk->have_base) {
		memcpy(lk->base, v, sizeof(v));
		lk->have_base = 1;
	}
	/* A counter below its start (an exporter restart) shows as a
	 * negative count, which the judge takes for no data. */
	c->canary_errors = v[Q_CANARY_ERRORS] - lk->base[Q_CANARY_ERRORS];
	c->canary_requests = v[Q_CANARY_REQUESTS] - lk->base[Q_CANARY_REQUESTS];
	c->control_errors = v[Q_CONTROL_ERRORS] - lk->base[Q_CONTROL_ERRORS];
	c->control_requests = v[Q_CONTROL_REQUESTS] -
	    lk->base[Q_CONTROL_REQUESTS];
	return 0;
}

/* Wait until the monotonic time until_ms, renewing the lease; -1 when
 * keepalive said stop. */
static int
canary_wait(struct builtin_ctx *ctx, int64_t until_ms)
{
	struct pollfd	 pfd = { ctx->sig->fd, POLLIN, 0 };
	int64_t		 now;
	int		 ms;

	if (ctx->keepalive(ctx->arg) == -1)
		return -1;
	while ((now = util_now_ms()) < until_ms) {
		ms = (int)(until_ms - now);
		if (ms > ctx->keepalive_ms)
			ms = ctx->keepalive_ms;
		if (poll(&pfd, 1, notify_watchdog_cap(ms)) > 0)
			signals_drain(ctx->sig);
		notify_watchdog();
		if (ctx->keepalive(ctx->arg) == -1)
			return -1;
	}
	return 0;
}

/* Record a sample of the judge after a look. */
static void
canary_sample(struct builtin_ctx *ctx, const struct canary_judge *j,
    double elapsed, const struct canary_counts *c, enum canary_verdict v)
{
	struct builtin_sample s = {
		.elapsed = elapsed,
		.judge = canary_kind_name(j->p.kind),
		.canary_errors = c ? c->canary_errors : NAN,
		.canary_requests = c ? c->canary_requests : NAN,
		.control_errors = c ? c->control_errors : NAN,
		.control_requests = c ? c->control_requests : NAN,
		.statistic = canary_judge_statistic(j),
		.verdict = canary_verdict_name(v),
	};

	if (ctx->record != NULL)
		ctx->record(ctx->arg, &s);
}

/* The stage's detail for verdict v. */
static void
canary_detail(const struct canary_judge *j, enum canary_verdict v,
    double elapsed, const char *lastwhy, char *detail, size_t detailsz)
{
	const struct canary_counts *c = &j->last;

	if (v == CANARY_NO_DATA)
		snprintf(detail, detailsz, "canary check failed after %.0f s: "
		    "no usable metrics (%s)", elapsed, lastwhy[0] ? lastwhy :
		    "no look succeeded");
	else if (v == CANARY_PASS && j->p.kind == CANARY_THRESHOLD)
		snprintf(detail, detailsz, "canary check passed: %.0f canary "
		    "errors in %.0f s, below the threshold of %.0f",
		    c->canary_errors, elapsed, j->p.threshold);
	else if (v == CANARY_PASS)
		snprintf(detail, detailsz, "canary check passed after %.0f s: "
		    "the canaries are not %gx worse than the others (e-value "
		    "%.3g >= %.0f)", elapsed, j->p.rho_bad, j->e_accept,
		    1 / j->p.beta);
	else if (j->p.kind == CANARY_THRESHOLD)
		snprintf(detail, detailsz, "canary check failed after %.0f s: "
		    "%.0f canary errors reached the threshold of %.0f", elapsed,
		    c->canary_errors, j->p.threshold);
	else if (j->e_reject >= 1 / j->p.alpha && c->control_errors <= 0)
		snprintf(detail, detailsz, "canary check failed after %.0f s: "
		    "%.0f canary errors (%.0f errors/%.0f %s) while the others "
		    "had none in %.0f %s (e-value %.3g >= %.0f)", elapsed,
		    c->canary_errors, c->canary_errors, c->canary_requests,
		    j->p.exposure != NULL ? j->p.exposure : "requests",
		    c->control_requests, j->p.exposure != NULL ?
		    j->p.exposure : "requests", j->e_reject, 1 / j->p.alpha);
	else if (j->e_reject >= 1 / j->p.alpha)
		snprintf(detail, detailsz, "canary check failed after %.0f s: "
		    "canary error rate %.2fx the others' (%.0f errors/%.0f %s "
		    "vs %.0f/%.0f; e-value %.3g >= %.0f)", elapsed,
		    (c->canary_errors / c->canary_requests) /
		    (c->control_errors / c->control_requests),
		    c->canary_errors, c->canary_requests, j->p.exposure != NULL ?
		    j->p.exposure : "requests", c->control_errors,
		    c->control_requests, j->e_reject, 1 / j->p.alpha);
	else
		snprintf(detail, detailsz, "canary check failed: inconclusive "
		    "after %.0f s (too few errors to tell; e-values %.3g and "
		    "%.3g): sparse data never passes", elapsed, j->e_reject,
		    j->e_accept);
}

enum run_status
canary_run(char *const *opts, size_t nopts, int timeout_s,
    struct builtin_ctx *ctx, int *ok, char *detail, size_t detailsz)
{
	struct canary_conf cc;
	struct canary_judge j;
	struct canary_look lk;
	struct canary_counts c;
	enum canary_verdict v = CANARY_PENDING;
	char		 why[512] = "", line[1024];
	int64_t		 start = util_now_ms(), next;
	double		 elapsed = 0;
	int		 errors = 0, n;

	*ok = 0;
	if (canary_conf_parse(opts, nopts, &cc, why, sizeof(why)) == -1 ||
	    canary_judge_init(&j, &cc.p, why, sizeof(why)) == -1) {
		snprintf(detail, detailsz, "canary check: %s", why);
		logw_say(ctx->log, "%s", detail);
		return RUN_DONE;
	}
	if (cc.p.window + cc.warmup > timeout_s) {
		logw_say(ctx->log, "canary: warmup and window (%g s) are longer "
		    "than the stage's timeout (%d s): the window is cut",
		    cc.warmup + cc.p.window, timeout_s);
		cc.p.window = timeout_s - cc.warmup;
		if (cc.p.window < 1)
			cc.p.window = 1;
		if (canary_judge_init(&j, &cc.p, why, sizeof(why)) == -1) {
			snprintf(detail, detailsz, "canary check: %s", why);
			logw_say(ctx->log, "%s", detail);
			return RUN_DONE;
		}
	}
	logw_say(ctx->log, "canary: %s judge on %s (%s), a look every %g s "
	    "for at most %g s", canary_kind_name(cc.p.kind), cc.url,
	    cc.source == SOURCE_LOGSTASH ? "logstash" : "prometheus",
	    cc.interval, cc.p.window);
	if (cc.warmup > 0) {
		logw_say(ctx->log, "canary: waiting %g s for the metrics to catch "
		    "up with the sync before the first look", cc.warmup);
		if (canary_wait(ctx, start + (int64_t)(cc.warmup * 1000)) == -1)
			return ctx->sig->terms >= 2 ? RUN_KILLED : RUN_LOST;
		start = util_now_ms();
	}
	memset(&lk, 0, sizeof(lk));
	lk.start_wall = wall_now();
	for (n = 1; v == CANARY_PENDING; n++) {
		elapsed = (double)(util_now_ms() - start) / 1000;
		if (canary_look(&cc, &lk, elapsed, &c, why, sizeof(why)) == 0) {
			errors = 0;
			v = canary_judge_look(&j, elapsed, &c);
			canary_sample(ctx, &j, elapsed, &c, v);
			canary_judge_explain(&j, elapsed, line, sizeof(line));
			logw_say(ctx->log, "canary: %s", line);
			why[0] = '\0';
		} else {
			errors++;
			v = canary_judge_look(&j, elapsed, NULL);
			if (errors >= cc.max_errors || elapsed >= timeout_s)
				v = CANARY_NO_DATA;
			canary_sample(ctx, &j, elapsed, NULL, v);
			logw_say(ctx->log, "canary: look %d at %.1f s found no "
			    "data: %s", n, elapsed, why);
		}
		if (v != CANARY_PENDING)
			break;
		next = start + (int64_t)(n * cc.interval * 1000);
		if (canary_wait(ctx, next) == -1)
			return ctx->sig->terms >= 2 ? RUN_KILLED : RUN_LOST;
	}
	canary_detail(&j, v, elapsed, why, detail, detailsz);
	*ok = v == CANARY_PASS;
	logw_say(ctx->log, "canary: verdict %s: %s", canary_verdict_name(v),
	    detail);
	return RUN_DONE;
}
