/* cgi.h: what the FastCGI handlers share: the request, routes, validation
 * tables and the one way to answer. */
#ifndef SPIDERPIG_CGI_H
#define SPIDERPIG_CGI_H

#include <stddef.h>

#include <cJSON.h>
#include <fcgiapp.h>
#include <libpq-fe.h>

#include "cfg.h"

#define PATH_MAX_LEN	512

/* ---- Requests ---------------------------------------------------------- */

enum role {
	ROLE_PUBLIC,		/* no identity needed (health checks) */
	ROLE_USER,		/* any authenticated, non-banned user */
	ROLE_ADMIN
};

/*
 * One request being served. Strings point into libfcgi's parameter block
 * or into the request's own buffers; everything is released by req_free().
 */
struct req {
	FCGX_Request		*fcgx;
	const struct cfg	*cfg;
	PGconn			**dbp;		/* the serving thread's connection */
	const char		*method;
	const char		*path;		/* without the query string */
	char			 pathbuf[PATH_MAX_LEN];
	const char		*query;		/* "" when absent */
	const char		*user;		/* REMOTE_USER, NULL when empty */
	const char		*role;		/* SPIDERPIG_ROLE, NULL when empty */
	const char		*ctype;		/* CONTENT_TYPE or NULL */
	char			*body;		/* NUL-terminated copy, or NULL */
	size_t			 bodylen;
	long long		 id;		/* a {id} path segment */
	const char		*name;		/* a {name} path segment */
	char			 namebuf[132];
	char			 allow[64];	/* Allow header for a 405 */
	int			 status;	/* what was answered */
};

/* Serve one accepted request; always answers. */
void		 req_serve(FCGX_Request *, const struct cfg *, PGconn **dbp);

/*
 * The thread's database connection, reconnecting when it is missing,
 * broken, or was closed by the server since the last request. NULL when the
 * database is down (the caller answers with reply_db_error(r, NULL)).
 */
PGconn		*req_db(struct req *);

/*
 * Run a statement whose first column of the first row is JSON and parse it
 * into *out (NULL when there is no row). On a database error answer with
 * the mapped problem and return -1; else 0.
 */
int		 req_query_json(struct req *, const char *sql, int nparams,
		    const char *const *params, cJSON **out);

/* ---- Answers (reply.c): every byte of output goes through these -------- */

/* An HTML page (with the pages' Content-Security-Policy) plus optional
 * extra header lines such as Set-Cookie. */
void		 reply_html(struct req *, int status, const char *headers,
		    const char *body, size_t len);
/* A redirect (302, 303) to location plus optional extra header lines. */
void		 reply_redirect(struct req *, int status, const char *location,
		    const char *headers);

/* A JSON answer (Cache-Control: no-store). location may be NULL. The
 * caller keeps ownership of body. */
void		 reply_json(struct req *, int status, const cJSON *body,
		    const char *location);
/* An answer without a body (204) plus optional extra header lines (each
 * "Name: value\r\n"), already checked by the caller. */
void		 reply_empty(struct req *, int status, const char *headers);

struct verr;
/*
 * THE error answer: application/problem+json (RFC 9457) with type, title,
 * status and detail; with ve, also "field" (the first) and "errors" (all).
 * 503 carries Retry-After, 405 the Allow header from r->allow.
 */
void		 reply_problem(struct req *, int status, const struct verr *ve,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A failed database call: SPxxx -> xxx with the message as detail and the
 * column as field; no connection -> 503; anything else -> 500. */
void		 reply_db_error(struct req *, const PGresult *err);

/* ---- Validation (validate.c): pure, no I/O ----------------------------- */

#define VERR_MAX	8

/* Validation problems, in input order; status is 400 or 415. */
struct verr {
	int	 status;
	size_t	 n;
	struct {
		char	 field[64];
		char	 detail[192];
	} e[VERR_MAX];
};

enum field_type {
	FT_STRING,		/* min..max bytes, then check() */
	FT_INTEGER,		/* min..max */
	FT_STRINGS,		/* array of min..max strings, each check()ed */
	FT_BOOL			/* JSON true/false; query "0"/"1" */
};

/* One input field a handler reads, and how it is validated. */
struct field {
	const char	 *name;
	enum field_type	  type;
	int		  required;
	long long	  min, max;	/* length, value or item count */
	size_t		  maxlen;	/* FT_STRINGS: bytes per item */
	/* Optional: 0 when s is acceptable, else -1 with *why. */
	int		(*check)(const char *s, const char **why);
	/* FT_STRINGS, optional: items with equal keys are duplicates. */
	long long	(*unique_key)(const char *s);
};

/* A validated value; strings point into the parsed input. */
struct value {
	int		  present;
	const char	 *s;
	long long	  i;
	const cJSON	 *items;	/* FT_STRINGS: the array */
};

/*
 * Parse body (len bytes; an empty body counts as {}) as a JSON object and
 * validate it against fields[0..nfields): unknown, repeated, mistyped,
 * out-of-range and missing fields are collected into ve. On success returns
 * 0 with vals[i] set and *root owning the parsed tree (cJSON_Delete it);
 * else -1 with *root NULL.
 */
int		 validate_json(const char *body, size_t len,
		    const struct field *fields, size_t nfields,
		    struct value *vals, cJSON **root, struct verr *ve);

/*
 * Validate a query string the same way; buf (at least HTTP_QUERY_MAX +
 * HTTP_QUERY_PARAMS + 1 bytes) holds the decoded strings vals point into.
 */
int		 validate_query(const char *qs, const struct field *fields,
		    size_t nfields, struct value *vals, char *buf,
		    size_t bufsz, struct verr *ve);

/*
 * Validate an application/x-www-form-urlencoded body the same way (strict
 * parser: lib/http.c); buf (at least len + HTTP_FORM_PARAMS + 1 bytes)
 * holds the decoded strings.
 */
int		 validate_form(const char *body, size_t len,
		    const struct field *fields, size_t nfields,
		    struct value *vals, char *buf, size_t bufsz,
		    struct verr *ve);

/* Append a problem to ve (ignored once full). */
void		 verr_add(struct verr *, const char *field, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* Checks usable in field tables. */
int		 check_patch(const char *, const char **why);
long long	 patch_change(const char *);
int		 check_state(const char *, const char **why);
int		 check_user_name(const char *, const char **why);
int		 check_role(const char *, const char **why);
int		 check_rfc3339(const char *, const char **why);
int		 check_text(const char *, const char **why);
int		 check_return_to(const char *, const char **why);

/*
 * Replace each run of consecutive sensitive lines in the array lines with
 * one placeholder {"seq": first, "last_seq": last, "sensitive": true,
 * "text": "<sensitive information hidden>"} (logmask.c). Lines carry "seq"
 * and "sensitive". Returns 0, or -1 when memory ran out.
 */
int		 log_collapse_sensitive(cJSON *lines);

/* ---- Routes (route.c) -------------------------------------------------- */

typedef int	(*handler_fn)(struct req *);

/* What a route's POST body must be: JSON (the API) or an HTML form. */
enum body_kind { BODY_JSON, BODY_FORM };

struct route {
	const char	*method;
	const char	*pattern;	/* "{id}": digits; "{name}": a user name */
	handler_fn	 handler;
	enum role	 role;
	enum body_kind	 body;
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/*
 * Find the route for method and path, filling r->id / r->name from the
 * placeholders (r->name points to r->namebuf). On ROUTE_BAD_METHOD,
 * r->allow lists the methods the path does accept.
 */
enum route_result route_match(struct req *, const struct route **);

/* ---- HTML (html.c): every byte of a page goes through these ----------- */

/* A page being built; on out of memory it stops growing and remembers. */
struct html {
	char	*buf;
	size_t	 len, cap;
	int	 failed;
};

/* Append trusted template text (a literal of ours) as it is. */
void		 html_raw(struct html *, const char *);
/* THE escaping function: append text with & < > " ' escaped. */
void		 html_escape(struct html *, const char *text);
void		 html_int(struct html *, long long);
void		 html_free(struct html *);	/* members only */

struct session;
/* Page head (title escaped, nav when s is an AAL2 session) and foot. */
void		 html_begin(struct html *, const char *title,
		    const struct session *s);
void		 html_end(struct html *);
/* A hidden csrf field for s. */
void		 html_csrf(struct html *, const struct session *s);
/* Send the page h (freed here); 500 when building it ran out of memory. */
void		 html_send(struct req *, int status, const char *headers,
		    struct html *h);
/* A short page with a title and one message, e.g. an error. */
void		 html_message(struct req *, int status, const char *headers,
		    const char *title, const char *message);
/* A failed database call as a page: SPxxx -> xxx with its message. */
void		 html_db_error(struct req *, const PGresult *err);

/* ---- Browser sessions (session.c) --------------------------------------- */

#define SESSION_COOKIE	"__Host-spiderpig_session"
#define LOGIN_COOKIE	"__Host-spiderpig_login"

/* The header line that clears the session cookie. */
#define SESSION_COOKIE_CLEAR \
	"Set-Cookie: " SESSION_COOKIE "=; Path=/; Secure; HttpOnly; " \
	"SameSite=Strict; Max-Age=0\r\n"

/* The browser's session, from session_get (AAL1 or AAL2). */
struct session {
	long long	 id;
	char		 user[132];
	char		 role[16];
	int		 aal;
	char		 csrf[96];
	char		 hash[68];	/* sha256 of the cookie, bytea literal */
};

/*
 * The Set-Cookie header line (CRLF-terminated) for a new session token
 * into buf: SameSite=Lax at AAL1 (it must survive the provider's redirect),
 * Strict at AAL2. -1 when token is not header-safe or buf too small.
 */
int		 session_cookie_header(char *buf, size_t bufsz,
		    const char *token, int aal);
/*
 * Look up the session cookie. Returns 1 with *s filled, 0 when there is no
 * live session, -1 after answering a database failure.
 */
int		 session_load(struct req *, struct session *s);
/* 1 when the form's csrf value matches the session's (constant time). */
int		 session_csrf_ok(const struct session *s, const char *csrf);
/*
 * For a POST from a page: the session (at least aal; at AAL2 its user must
 * be REMOTE_USER), the form validated against fields (fields[0] must be
 * "csrf") and the csrf value checked. Answers and returns -1 on failure.
 * buf holds HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1 bytes.
 */
int		 form_read(struct req *, struct session *s,
		    const struct field *fields, size_t nfields,
		    struct value *vals, char *buf, size_t bufsz, int aal);
/* Run a statement for a page; on failure answer with an error page and
 * return NULL. The caller PQclear()s the result. */
PGresult	*req_exec_page(struct req *, const char *sql, int nparams,
		    const char *const *params);
/* The provider's cache and the HTTP client (login.c): call before threads
 * start / at exit. */
int		 login_init(void);
void		 login_cleanup(void);

/* ---- Handlers, one file per resource ----------------------------------- */

int	 auth_check(struct req *);			/* auth.c */

int	 deployments_create(struct req *);		/* deployments.c */
int	 deployments_list(struct req *);
int	 deployments_get(struct req *);
int	 deployments_log(struct req *);
int	 deployments_answer(struct req *);
int	 deployments_rollback(struct req *);
int	 deployments_cancel(struct req *);

int	 queue_get(struct req *);			/* queue.c */
int	 status_get(struct req *);

int	 admin_freeze(struct req *);			/* admin.c */
int	 admin_unfreeze(struct req *);
int	 admin_user_set(struct req *);
int	 admin_user_ban(struct req *);
int	 admin_user_unban(struct req *);
int	 admin_user_logout(struct req *);
int	 admin_logout_all(struct req *);
int	 admin_queue_move(struct req *);
int	 admin_token_revoke(struct req *);

int	 health_live(struct req *);			/* health.c */
int	 health_ready(struct req *);

int	 login_start(struct req *);			/* login.c */
int	 login_callback(struct req *);

int	 logout_post(struct req *);			/* session.c */

int	 totp_page(struct req *);			/* totp_pages.c */
int	 totp_submit(struct req *);

int	 page_dashboard(struct req *);			/* pages.c */
int	 page_deploy(struct req *);
int	 page_answer(struct req *);
int	 page_rollback(struct req *);
int	 page_cancel(struct req *);
int	 page_tokens(struct req *);
int	 page_token_create(struct req *);
int	 page_token_revoke(struct req *);
int	 page_admin(struct req *);
int	 page_admin_action(struct req *);

/* The deployment columns as one JSON object, for "SELECT ... FROM x d". */
#define SQL_DEPLOYMENT_JSON \
	"json_build_object('id', d.id, 'state', d.state, " \
	"'position', d.position, 'patches', d.patches, " \
	"'requester', d.requester, 'created_at', d.created_at, " \
	"'updated_at', d.updated_at, 'started_at', d.started_at, " \
	"'finished_at', d.finished_at, 'rollback_reason', d.rollback_reason)"

#endif
