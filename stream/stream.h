/* stream.h: spiderpig-stream, the WebSocket daemon: one header in sections
 * (messages, clients and fan-out, the database side, the lws glue). */
#ifndef SPIDERPIG_STREAM_H
#define SPIDERPIG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct cfg;

#define STREAM_MAX_SUBS		16	/* deployments one client watches */
#define STREAM_RX_MAX		4096	/* bytes of one client message */
#define STREAM_USER_MAX		128	/* users.name is at most 128 */
#define STREAM_PAGE_LINES	1000	/* lines of one log page */
#define STREAM_PAGE_BYTES	(64 * 1024)	/* raw text of one page */
#define STREAM_CLOSE_GRACE	2	/* seconds for a close frame to leave */
#define STREAM_STALL_MS		2000	/* frames wait, none taken: too slow */

/* Close codes (4000-4999 are the application's, RFC 6455 7.4.2). */
#define STREAM_CLOSE_SIGNED_OUT	4001
#define STREAM_CLOSE_BANNED	4003
#define STREAM_CLOSE_TOO_SLOW	4008

/* --- messages (msg.c, pure: no I/O) ------------------------------------ */

enum stream_req_type {
	REQ_SUBSCRIBE,
	REQ_UNSUBSCRIBE
};

/* A client message: {"type": "subscribe", "deployment": ID, "after": SEQ,
 * "reveal": BOOL} or {"type": "unsubscribe", "deployment": ID}. */
struct stream_req {
	enum stream_req_type	type;
	int64_t			deployment;
	int64_t			after;		/* 0 when absent */
	int			reveal;		/* 0 when absent */
};

/*
 * Parse and validate one client message of len bytes. Returns 0, or -1
 * with a reason for the client in why (at most whysz bytes).
 */
int	stream_req_parse(const char *buf, size_t len, struct stream_req *,
	    char *why, size_t whysz);

/* A valid users.name (the identity nginx passes on). */
int	stream_user_valid(const char *);

/* --- shared outgoing messages and clients (fanout.c) ------------------- */

/* One text frame, shared by every client it is queued for: LWS_PRE bytes
 * of room, then len bytes of JSON. Freed when the last reference goes. */
struct msg {
	unsigned	 refs;
	size_t		 len;
	unsigned char	 buf[];
};

struct qnode {
	struct msg	*msg;
	struct qnode	*next;
};

struct dep;

/* One watched deployment of a client. sent is the highest seq queued for
 * it; the client is live for it when sent equals the deployment's
 * fetched seq, and catching up (page by page, its own queries) before. */
struct sub {
	struct dep	*dep;
	int64_t		 sent;
	int		 reveal;	/* asked for and allowed */
};

/* A connection: lws' per-session data. */
struct client {
	struct lws	*wsi;
	struct client	*prev, *next;	/* every established client */
	char		 user[STREAM_USER_MAX + 1];
	int64_t		 token;		/* the API token it came with, or 0 */
	struct qnode	*head, *tail;	/* frames waiting to be written */
	size_t		 queued;	/* their bytes */
	struct sub	 subs[STREAM_MAX_SUBS];
	size_t		 nsubs;
	int64_t		 last_progress;	/* ms: a frame left, or one began to wait */
	int		 close_code;	/* set: closing, nothing more queued */
	char		 close_reason[64];
	size_t		 rxlen;
	char		 rx[STREAM_RX_MAX];
};

/* A deployment someone watches. fetched: the highest seq fanned out to
 * the live watchers; notified: the highest seq announced (INT64_MAX after
 * a reconnect: fetch whatever is there). */
struct dep {
	int64_t		 id;
	int64_t		 fetched;
	int64_t		 notified;
	unsigned	 watchers;
	int		 summary_dirty;
	struct dep	*next;
};

struct stream {
	const struct cfg	*cfg;
	struct lws_context	*ctx;
	struct lws_vhost	*vhost;
	struct client		*clients;
	size_t			 nclients;
	struct dep		*deps;
	struct msg		*overview;	/* the last one, for newcomers */
	int			 overview_dirty;
	lws_sorted_usec_list_t	 tick;		/* deferred fan-out work */
	int			 tick_armed;
	lws_sorted_usec_list_t	 stall;		/* the too-slow check */

	/* The database (pg.c). */
	void			*pg;		/* PGconn */
	struct lws		*pg_wsi;	/* its socket in lws' loop */
	lws_sorted_usec_list_t	 pg_retry;
	int			 pg_backoff_ms;
};

extern struct stream	stream;

struct msg	*msg_new(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
void		 msg_unref(struct msg *);

/* Queue m for c (taking a reference). Frames other than log pages are
 * small and always queued, up to twice the buffer cap: past that the
 * client is closed as too slow instead and -1 is returned. */
int	client_send(struct client *, struct msg *);
/* Queue a live log page for c if it fits under the buffer cap: 1. Else
 * 0: the client falls behind and catches up alone once it has drained to
 * a quarter of the cap. A client that takes no frame for STREAM_STALL_MS
 * while frames wait is closed as too slow (stall_start). */
int	client_offer(struct client *, struct msg *);
/* Start the periodic too-slow check. */
void	stall_start(void);
/* Queue a new message built from fmt for c alone. */
int	client_sendf(struct client *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Start closing c with code and reason: drop its queue, send the close
 * frame when the socket can take it, kill it after STREAM_CLOSE_GRACE. */
void	client_close(struct client *, int code, const char *reason);
/* Write the next queued frame (the WRITEABLE callback). -1: hang up. */
int	client_writeable(struct client *);
void	client_attach(struct client *, struct lws *);
void	client_detach(struct client *);
/* Handle one complete message from c. -1: hang up. */
int	client_request(struct client *, const char *buf, size_t len);

/* Fan-out entry points for the database side. */
void	fanout_log(int64_t deployment, int64_t seq);
void	fanout_event(int64_t deployment, const char *event);
/* token > 0: that API token was revoked (its sockets close); else user
 * NULL means every user. */
void	fanout_auth(const char *event, const char *user, int64_t token);
void	fanout_resync(void);
void	fanout_schedule(void);
/* Before lws_context_destroy(): no more deferred work. */
void	fanout_cancel(void);
/* After it: free what is left. */
void	fanout_shutdown(void);

/* --- the database (pg.c) ---------------------------------------------- */

int	pg_start(void);
void	pg_stop(void);
/* The RAW_RX_FILE callback of the database socket: read what arrived and
 * handle the notifications (a broken connection is retried later). */
int	pg_readable(void);
/* The connection broke or never came up: drop it and retry later. */
void	pg_lost(void);
int	pg_up(void);

/* One log page: lines of deployment after < seq <= upto for viewer as a
 * JSON array in *lines (malloc'd), *last the highest seq covered (0 when
 * none). 0, or -1 when the database failed. */
int	pg_log_page(const char *viewer, int64_t deployment, int64_t after,
	    int64_t upto, int reveal, int64_t *last, char **lines);
/* stream_watch(): 0 with *last_seq, *may_reveal, *summary (malloc'd);
 * an HTTP-ish status (403, 404...) with why filled; -1 database down. */
int	pg_watch(const char *viewer, int64_t deployment, int64_t *last_seq,
	    int *may_reveal, char **summary, char *why, size_t whysz);
/* stream_deployment() / stream_overview() as malloc'd JSON, NULL on
 * failure (or no such deployment). */
char	*pg_deployment(int64_t deployment);
char	*pg_overview(void);

/* stream_report(): this daemon's instance, host, pid and open sockets.
 * 0, or -1 when the database failed. */
int	pg_report(const char *instance, const char *host, long pid,
	    size_t connections);

/* --- the socket count for /metrics (report.c) -------------------------- */

/* Report the count from now on: when it changes (at most every 2 s) and
 * every 10 s regardless. */
void	report_start(void);
/* Before lws_context_destroy(): no more reports. */
void	report_cancel(void);
/* At shutdown, before the database goes: no more reports, and a last one
 * of no sockets. */
void	report_stop(void);

/* --- lws glue (ws.c) --------------------------------------------------- */

extern const struct lws_protocols	stream_protocols[];

#endif
