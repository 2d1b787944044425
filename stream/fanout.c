/* fanout.c: clients, their bounded queues of shared frames, and what goes
 * to whom: log pages fetched once per batch and class (sensitive lines
 * collapsed or revealed), deployment changes, the overview, auth closes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cfg.h"
#include "stream.h"
#include "util.h"

struct stream	stream;

struct msg *
msg_new(const char *fmt, ...)
{
	struct msg	*m;
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (m = malloc(sizeof(*m) + LWS_PRE + (size_t)n + 1)) == NULL)
		return NULL;
	m->refs = 1;
	m->len = (size_t)n;
	va_start(ap, fmt);
	vsnprintf((char *)m->buf + LWS_PRE, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return m;
}

void
msg_unref(struct msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

static void
queue_clear(struct client *c)
{
	struct qnode	*q;

	while ((q = c->head) != NULL) {
		c->head = q->next;
		msg_unref(q->msg);
		free(q);
	}
	c->tail = NULL;
	c->queued = 0;
}

void
client_close(struct client *c, int code, const char *reason)
{
	if (c->close_code != 0)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	queue_clear(c);
	log_info("closing %s's socket: %d %s", c->user, code, reason);
	lws_callback_on_writable(c->wsi);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, STREAM_CLOSE_GRACE);
}

static void
queue_push(struct client *c, struct msg *m)
{
	struct qnode	*q;

	if ((q = malloc(sizeof(*q))) == NULL) {
		client_close(c, 1011, "out of memory");
		return;
	}
	/* The stall clock starts when a frame waits, not at the last write
	 * before a quiet spell. */
	if (c->head == NULL)
		c->last_progress = util_now_ms();
	m->refs++;
	q->msg = m;
	q->next = NULL;
	if (c->tail != NULL)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->queued += m->len;
	lws_callback_on_writable(c->wsi);
}

/*
 * The cap holds what waits in our queue: the kernel's and nginx's buffers
 * come before it. One frame is always accepted into an empty queue, so a
 * page larger than the cap (long lines) still goes out.
 */
static int
client_fits(const struct client *c, const struct msg *m, size_t cap)
{
	return c->queued == 0 || c->queued + m->len <= cap;
}

int
client_send(struct client *c, struct msg *m)
{
	if (c->close_code != 0)
		return -1;
	if (!client_fits(c, m, 2 * (size_t)stream.cfg->stream_buffer_cap)) {
		client_close(c, STREAM_CLOSE_TOO_SLOW, "too slow: more than the "
		    "buffer cap is waiting");
		return -1;
	}
	queue_push(c, m);
	return c->close_code != 0 ? -1 : 0;
}

int
client_offer(struct client *c, struct msg *m)
{
	if (c->close_code != 0)
		return 0;
	if (!client_fits(c, m, (size_t)stream.cfg->stream_buffer_cap))
		return 0;
	queue_push(c, m);
	return c->close_code == 0;
}

/* Every half second: close the clients that had frames waiting and took
 * none for STREAM_STALL_MS. (What waits is bounded by the cap: past it a
 * client gets no more live pages and catches up alone once drained.) */
static void
stall_check(lws_sorted_usec_list_t *sul)
{
	struct client	*c;
	int64_t		 now = util_now_ms();

	for (c = stream.clients; c != NULL; c = c->next)
		if (c->queued > 0 && c->close_code == 0 &&
		    now - c->last_progress >= STREAM_STALL_MS)
			client_close(c, STREAM_CLOSE_TOO_SLOW, "too slow: "
			    "nothing was read for 2 s");
	lws_sul_schedule(stream.ctx, 0, sul, stall_check,
	    500 * LWS_US_PER_MS);
}

void
stall_start(void)
{
	lws_sul_schedule(stream.ctx, 0, &stream.stall, stall_check,
	    500 * LWS_US_PER_MS);
}

int
client_sendf(struct client *c, const char *fmt, ...)
{
	struct msg	*m;
	va_list		 ap;
	char		*s;
	int		 rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	m = msg_new("%s", s);
	free(s);
	if (m == NULL)
		return -1;
	rc = client_send(c, m);
	msg_unref(m);
	return rc;
}

/* An error about a request, as {"type":"error", "status", "detail"}. */
static int
client_error(struct client *c, int64_t deployment, int status,
    const char *detail)
{
	cJSON	*o;
	char	*s;
	int	 rc = -1;

	if ((o = cJSON_CreateObject()) == NULL)
		return -1;
	cJSON_AddStringToObject(o, "type", "error");
	if (deployment > 0)
		cJSON_AddNumberToObject(o, "deployment", (double)deployment);
	cJSON_AddNumberToObject(o, "status", status);
	cJSON_AddStringToObject(o, "detail", detail);
	if ((s = cJSON_PrintUnformatted(o)) != NULL) {
		rc = client_sendf(c, "%s", s);
		cJSON_free(s);
	}
	cJSON_Delete(o);
	return rc;
}

static struct dep *
dep_find(int64_t id)
{
	struct dep	*d;

	for (d = stream.deps; d != NULL; d = d->next)
		if (d->id == id)
			return d;
	return NULL;
}

/* Count one more watcher of deployment id, tracking it from last (the
 * highest seq committed when the first watcher came). NULL: no memory. */
static struct dep *
dep_watch(int64_t id, int64_t last)
{
	struct dep	*d;

	if ((d = dep_find(id)) == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL)
			return NULL;
		d->id = id;
		d->fetched = d->notified = last;
		d->next = stream.deps;
		stream.deps = d;
	}
	d->watchers++;
	return d;
}

static void
dep_release(struct dep *d)
{
	struct dep	**pp;

	if (--d->watchers > 0)
		return;
	for (pp = &stream.deps; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	free(d);
}

/*
 * Catch a client up: while its queue is below a quarter of the cap, send
 * it the next page of a deployment it is behind on (its own query: only a
 * client resuming or slowed down gets these). Returns -1 when the client
 * was closed.
 */
static int
client_pump(struct client *c)
{
	struct sub	*s;
	struct msg	*m;
	int64_t		 last;
	char		*lines;
	size_t		 i;
	int		 rc;

	for (i = 0; i < c->nsubs; i++) {
		s = &c->subs[i];
		while (s->sent < s->dep->fetched && c->close_code == 0 &&
		    c->queued < (size_t)stream.cfg->stream_buffer_cap / 4) {
			if (pg_log_page(c->user, s->dep->id, s->sent,
			    s->dep->fetched, s->reveal, &last, &lines) != 0)
				return 0;	/* retried after the reconnect */
			if (last == 0) {
				/* Nothing there (a bogus after): go live. */
				free(lines);
				s->sent = s->dep->fetched;
				break;
			}
			m = msg_new("{\"type\":\"lines\",\"deployment\":%lld,"
			    "\"last_seq\":%lld,\"lines\":%s}",
			    (long long)s->dep->id, (long long)last, lines);
			free(lines);
			if (m == NULL)
				return -1;
			s->sent = last;
			rc = client_send(c, m);
			msg_unref(m);
			if (rc != 0)
				return -1;
		}
		/* Caught up while a batch waits for live watchers. */
		if (s->sent == s->dep->fetched &&
		    s->dep->notified > s->dep->fetched)
			fanout_schedule();
	}
	return c->close_code != 0 ? -1 : 0;
}

int
client_writeable(struct client *c)
{
	struct qnode	*q;
	int		 n;

	if (c->close_code != 0) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
		    (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if ((q = c->head) == NULL)
		return 0;
	n = lws_write(c->wsi, q->msg->buf + LWS_PRE, q->msg->len,
	    LWS_WRITE_TEXT);
	if (n < (int)q->msg->len)
		return -1;
	c->head = q->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->queued -= q->msg->len;
	c->last_progress = util_now_ms();
	msg_unref(q->msg);
	free(q);
	if (client_pump(c) != 0 && c->close_code == 0)
		return -1;
	if (c->head != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void
client_attach(struct client *c, struct lws *wsi)
{
	c->wsi = wsi;
	c->last_progress = util_now_ms();
	c->prev = NULL;
	c->next = stream.clients;
	if (stream.clients != NULL)
		stream.clients->prev = c;
	stream.clients = c;
	stream.nclients++;
}

void
client_detach(struct client *c)
{
	size_t	i;

	if (c->wsi == NULL)
		return;
	queue_clear(c);
	for (i = 0; i < c->nsubs; i++)
		dep_release(c->subs[i].dep);
	c->nsubs = 0;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		stream.clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	stream.nclients--;
	c->wsi = NULL;
}

static struct sub *
client_sub(struct client *c, int64_t deployment)
{
	size_t	i;

	for (i = 0; i < c->nsubs; i++)
		if (c->subs[i].dep->id == deployment)
			return &c->subs[i];
	return NULL;
}

static int
client_subscribe(struct client *c, const struct stream_req *r)
{
	struct dep	*d;
	struct sub	*s;
	int64_t		 last;
	char		 why[256];
	char		*summary;
	int		 may, st;

	if (client_sub(c, r->deployment) != NULL)
		return client_error(c, r->deployment, 409,
		    "already watching this deployment");
	if (c->nsubs == STREAM_MAX_SUBS)
		return client_error(c, r->deployment, 429,
		    "watching too many deployments at once");
	st = pg_watch(c->user, r->deployment, &last, &may, &summary, why,
	    sizeof(why));
	if (st == -1)
		return client_error(c, r->deployment, 503,
		    "the database is not answering; try again shortly");
	if (st != 0) {
		if (client_error(c, r->deployment, st, why) != 0)
			return -1;
		/* A banned or unknown user has no business here. */
		if (st == 401 || st == 403)
			client_close(c, st == 403 ? STREAM_CLOSE_BANNED :
			    STREAM_CLOSE_SIGNED_OUT, why);
		return 0;
	}
	if (r->reveal && !may) {
		free(summary);
		return client_error(c, r->deployment, 403, "only the "
		    "requester or an admin may see sensitive lines");
	}
	if ((d = dep_watch(r->deployment, last)) == NULL) {
		free(summary);
		return -1;
	}
	s = &c->subs[c->nsubs++];
	s->dep = d;
	s->sent = r->after;
	s->reveal = r->reveal;
	/* Ahead of what exists (another database?): start from now. */
	if (s->sent > d->fetched)
		s->sent = d->fetched;
	st = client_sendf(c, "{\"type\":\"deployment\",\"deployment\":%s}",
	    summary);
	free(summary);
	if (st != 0)
		return -1;
	return client_pump(c);
}

static int
client_unsubscribe(struct client *c, const struct stream_req *r)
{
	struct sub	*s;

	if ((s = client_sub(c, r->deployment)) == NULL)
		return client_error(c, r->deployment, 404,
		    "not watching this deployment");
	dep_release(s->dep);
	*s = c->subs[--c->nsubs];
	return 0;
}

int
client_request(struct client *c, const char *buf, size_t len)
{
	struct stream_req	r;
	char			why[128];

	if (c->close_code != 0)
		return 0;
	if (stream_req_parse(buf, len, &r, why, sizeof(why)) != 0)
		return client_error(c, 0, 400, why);
	if (r.type == REQ_SUBSCRIBE)
		return client_subscribe(c, &r);
	return client_unsubscribe(c, &r);
}

/* --- what the database announces -------------------------------------- */

void
fanout_log(int64_t deployment, int64_t seq)
{
	struct dep	*d;

	if ((d = dep_find(deployment)) == NULL || seq <= d->notified)
		return;
	d->notified = seq;
	fanout_schedule();
}

/* Events that move the queue, the freeze or a deployment. Logins, tokens
 * and TOTP steps change nothing a client sees. */
void
fanout_event(int64_t deployment, const char *event)
{
	struct dep	*d;

	if (deployment > 0) {
		if ((d = dep_find(deployment)) != NULL)
			d->summary_dirty = 1;
		stream.overview_dirty = 1;
	} else if (event != NULL && (strcmp(event, "freeze") == 0 ||
	    strcmp(event, "unfreeze") == 0 || strcmp(event, "ban") == 0))
		stream.overview_dirty = 1;
	fanout_schedule();
}

/* A logout, ban, "log out everyone" or role change (user NULL: every
 * user), or one API token revoked (token: the sockets it opened): close
 * the sockets it concerns. The client reconnects through the gate, which
 * checks it again. */
void
fanout_auth(const char *event, const char *user, int64_t token)
{
	struct client	*c, *next;
	const char	*why = "signed out";
	int		 code = STREAM_CLOSE_SIGNED_OUT;

	if (event != NULL && strcmp(event, "ban") == 0) {
		code = STREAM_CLOSE_BANNED;
		why = "banned";
	} else if (event != NULL && strcmp(event, "user_set") == 0)
		why = "role changed: reconnect";
	else if (token > 0)
		why = "token revoked";
	for (c = stream.clients; c != NULL; c = next) {
		next = c->next;
		if (token > 0 ? c->token == token :
		    user == NULL || strcmp(c->user, user) == 0)
			client_close(c, code, why);
	}
}

/* After a reconnect nothing announced in between is known: refetch it all. */
void
fanout_resync(void)
{
	struct dep	*d;

	for (d = stream.deps; d != NULL; d = d->next) {
		d->notified = INT64_MAX;
		d->summary_dirty = 1;
	}
	stream.overview_dirty = 1;
	fanout_schedule();
}

/*
 * Fan one page of a deployment out to its live watchers of one class
 * (reveal or not). The page is fetched once for them all. Returns the
 * page's last seq, 0 when there was none, -2 when the class has no live
 * watcher, -1 when the database failed.
 */
static int64_t
fanout_page(struct dep *d, int reveal)
{
	struct client	*c, *next;
	struct sub	*s;
	struct msg	*m;
	const char	*viewer = NULL;
	int64_t		 last;
	char		*lines;

	for (c = stream.clients; c != NULL && viewer == NULL; c = c->next)
		if ((s = client_sub(c, d->id)) != NULL &&
		    s->sent == d->fetched && s->reveal == reveal &&
		    c->close_code == 0)
			viewer = c->user;
	if (viewer == NULL)
		return -2;
	if (pg_log_page(viewer, d->id, d->fetched, d->notified, reveal,
	    &last, &lines) != 0)
		return -1;
	if (last == 0) {
		free(lines);
		return 0;
	}
	m = msg_new("{\"type\":\"lines\",\"deployment\":%lld,\"last_seq\":"
	    "%lld,\"lines\":%s}", (long long)d->id, (long long)last, lines);
	free(lines);
	if (m == NULL)
		return -1;
	for (c = stream.clients; c != NULL; c = next) {
		next = c->next;
		if ((s = client_sub(c, d->id)) == NULL ||
		    s->sent != d->fetched || s->reveal != reveal)
			continue;
		if (client_offer(c, m))
			s->sent = last;
	}
	msg_unref(m);
	return last;
}

/* The next page of every deployment that is behind; 1 when more remain,
 * -1 when the database failed. */
static int
fanout_logs(void)
{
	struct dep	*d;
	int64_t		 a, b;
	int		 more = 0;

	for (d = stream.deps; d != NULL; d = d->next) {
		if (d->notified <= d->fetched)
			continue;
		if ((a = fanout_page(d, 0)) == -1 || (b = fanout_page(d, 1)) == -1)
			return -1;
		if (a == -2 && b == -2)
			continue;	/* nobody live: client_pump asks again */
		if (a <= 0 && b <= 0) {
			/* Nothing committed past fetched after all. */
			d->notified = d->fetched;
			continue;
		}
		d->fetched = a > b ? a : b;
		more |= d->notified > d->fetched;
	}
	return more;
}

/* Clients with nothing queued that are behind (the other class had the
 * page, a page did not fit, a read failed) catch up on their own. */
static void
fanout_stragglers(void)
{
	struct client	*c, *next;

	for (c = stream.clients; c != NULL; c = next) {
		next = c->next;
		if (c->head == NULL && c->close_code == 0)
			client_pump(c);
	}
}

static void
fanout_summaries(void)
{
	struct client	*c, *next;
	struct dep	*d;
	struct msg	*m;
	char		*js;

	for (d = stream.deps; d != NULL; d = d->next) {
		if (!d->summary_dirty)
			continue;
		if ((js = pg_deployment(d->id)) == NULL)
			return;
		d->summary_dirty = 0;
		m = msg_new("{\"type\":\"deployment\",\"deployment\":%s}", js);
		free(js);
		if (m == NULL)
			return;
		for (c = stream.clients; c != NULL; c = next) {
			next = c->next;
			if (client_sub(c, d->id) != NULL)
				client_send(c, m);
		}
		msg_unref(m);
	}
}

static void
fanout_overview(void)
{
	struct client	*c, *next;
	struct msg	*m;
	char		*js;

	if (!stream.overview_dirty || (js = pg_overview()) == NULL)
		return;
	stream.overview_dirty = 0;
	m = msg_new("{\"type\":\"overview\",\"overview\":%s}", js);
	free(js);
	if (m == NULL)
		return;
	msg_unref(stream.overview);
	stream.overview = m;
	for (c = stream.clients; c != NULL; c = next) {
		next = c->next;
		client_send(c, m);
	}
}

/*
 * The deferred work, one step per loop turn: summaries, the overview, then
 * one page per deployment behind. Between pages lws writes what clients
 * can take, so a long batch does not pile up in every queue at once.
 */
static void
fanout_tick(lws_sorted_usec_list_t *sul)
{
	int	more;

	(void)sul;
	stream.tick_armed = 0;
	if (!pg_up())
		return;
	fanout_summaries();
	fanout_overview();
	if ((more = fanout_logs()) < 0) {
		pg_lost();
		return;
	}
	fanout_stragglers();
	if (more)
		fanout_schedule();
}

void
fanout_schedule(void)
{
	if (stream.tick_armed)
		return;
	stream.tick_armed = 1;
	lws_sul_schedule(stream.ctx, 0, &stream.tick, fanout_tick, 1);
}

void
fanout_cancel(void)
{
	lws_sul_cancel(&stream.tick);
	lws_sul_cancel(&stream.stall);
	stream.tick_armed = 0;
}

void
fanout_shutdown(void)
{
	struct dep	*d;

	msg_unref(stream.overview);
	stream.overview = NULL;
	while ((d = stream.deps) != NULL) {
		stream.deps = d->next;
		free(d);
	}
}
