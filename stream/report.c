/* report.c: tell the database how many sockets this daemon holds
 * (spiderpig.stream_report, sql/020), for GET /metrics: when the count
 * changed, at most every REPORT_MIN_MS, and every REPORT_EVERY_MS anyway
 * so that the row stays fresh while nothing happens. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "stream.h"
#include "util.h"

#define REPORT_TICK_MS		1000
#define REPORT_MIN_MS		2000
#define REPORT_EVERY_MS		10000

static struct {
	lws_sorted_usec_list_t	 sul;
	char			 instance[301];
	char			 host[256];
	int64_t			 last_ms;	/* last attempt, util_now_ms() */
	size_t			 last_count;	/* what it sent */
	int			 sent;		/* something was sent once */
	int			 failed;	/* the last attempt failed */
} rep;

/* Whether now is the time to send count. After a failure only the
 * periodic report tries again, so a database that refuses the call (a
 * migration missing) hears from us every REPORT_EVERY_MS, not more. */
static int
report_due(size_t count, int64_t now)
{
	if (!rep.sent || now - rep.last_ms >= REPORT_EVERY_MS)
		return 1;
	return !rep.failed && count != rep.last_count &&
	    now - rep.last_ms >= REPORT_MIN_MS;
}

static void
report_tick(lws_sorted_usec_list_t *sul)
{
	int64_t	now = util_now_ms();
	size_t	count = stream.nclients;

	if (pg_up() && report_due(count, now)) {
		rep.last_ms = now;
		rep.failed = pg_report(rep.instance, rep.host, (long)getpid(),
		    count) != 0;
		if (!rep.failed) {
			rep.sent = 1;
			rep.last_count = count;
		}
	}
	lws_sul_schedule(stream.ctx, 0, sul, report_tick,
	    REPORT_TICK_MS * LWS_US_PER_MS);
}

/* "<host>:<socket>": unique among running daemons (two cannot listen on
 * one socket) and the same after a restart. It becomes a Prometheus label
 * value, so quotes, backslashes and control characters become '_' (the
 * table refuses them). */
static void
report_name(void)
{
	size_t	i;

	if (gethostname(rep.host, sizeof(rep.host)) == -1 || rep.host[0] == '\0')
		snprintf(rep.host, sizeof(rep.host), "unknown");
	rep.host[sizeof(rep.host) - 1] = '\0';
	snprintf(rep.instance, sizeof(rep.instance), "%s:%s", rep.host,
	    stream.cfg->stream_socket);
	for (i = 0; rep.instance[i] != '\0'; i++)
		if (rep.instance[i] == '"' || rep.instance[i] == '\\' ||
		    (unsigned char)rep.instance[i] < 0x20 ||
		    rep.instance[i] == 0x7f)
			rep.instance[i] = '_';
}

void
report_start(void)
{
	report_name();
	lws_sul_schedule(stream.ctx, 0, &rep.sul, report_tick, 1);
}

void
report_cancel(void)
{
	lws_sul_cancel(&rep.sul);
}

void
report_stop(void)
{
	report_cancel();
	if (rep.instance[0] != '\0' && pg_up())
		(void)pg_report(rep.instance, rep.host, (long)getpid(), 0);
}
