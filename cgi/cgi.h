/* cgi.h: what the FastCGI handlers share: the request, routes, validation
 * tables and the one way to answer. */
#ifndef SPIDERPIG_CGI_H
#define SPIDERPIG_CGI_H

#include <stddef.h>
#include <stdint.h>

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

/* ---- Identity (auth.c, authcache.c) ------------------------------------ */

#define AUTH_USER_MAX		128
#define AUTH_ROLE_MAX		15
/* A verified credential is believed from memory this long at most. */
#define AUTHCACHE_MAX_MS	10000

/* Who a checked token or session is. */
struct auth_id {
	char	user[AUTH_USER_MAX + 1];
	char	role[AUTH_ROLE_MAX + 1];
};

struct authcache;

/* The process's cache of verified credentials; NULL when out of memory. */
struct authcache *authcache_new(void);
void		 authcache_free(struct authcache *);
/* Bumped by every flush. */
uint64_t	 authcache_generation(struct authcache *);
/*
 * 1 with *id and *gen (the generation it was found in) when a live entry
 * for (kind, hash) is cached, else 0. ac may be NULL (never a hit).
 */
int		 authcache_get(struct authcache *, char kind, const char *hash,
		    struct auth_id *id, uint64_t *gen);
/*
 * Remember id for (kind, hash) for valid_ms (capped at AUTHCACHE_MAX_MS),
 * unless the cache was flushed since gen, the generation read before the
 * database was asked.
 */
void		 authcache_put(struct authcache *, char kind, const char *hash,
		    const struct auth_id *id, int64_t valid_ms, uint64_t gen);
/* Forget every credential (a revocation of some kind). */
void		 authcache_flush(struct authcache *);
/* Forget credentials and documents (notifications may have been lost). */
void		 authcache_flush_all(struct authcache *);
/*
 * Read documents (JSON text as cJSON printed it), keyed by a short string
 * naming the read and its parameters. get returns a copy (free it) and the
 * generation it was found in, or NULL; put stores text unless the
 * documents were flushed since gen, read before the database was asked.
 */
uint64_t	 authcache_doc_generation(struct authcache *);
char		*authcache_doc_get(struct authcache *, const char *key,
		    uint64_t *gen);
void		 authcache_doc_put(struct authcache *, const char *key,
		    const char *text, uint64_t gen);
/* LISTEN on a new connection: 0, or -1 (logged; drop the connection). */
int		 authcache_listen(PGconn *);
/*
 * Take the notifications libpq has read on c (a connection that LISTENs):
 * spiderpig_auth_cache flushes the credentials, spiderpig_read_cache the
 * documents, and a broken connection both (-1). Returns how many there
 * were.
 */
int		 authcache_drain(struct authcache *, PGconn *);

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
	const char		*user;		/* checked identity, or NULL */
	const char		*role;		/* its role, or NULL */
	struct auth_id		 who;		/* what user and role point to */
	struct authcache	*cache;		/* the process's, or NULL */
	char			 cred_kind;	/* 't', 's' or 0: none checked */
	char			 cred_hash[68];	/* its SHA-256 as a bytea literal */
	int			 from_cache;	/* identity not yet confirmed */
	uint64_t		 cache_gen;	/* generation it was found in */
	int			 queried;	/* a statement ran on *dbp since */
	int			 muted;		/* the answer was replaced */
	const char		*ctype;		/* CONTENT_TYPE or NULL */
	char			*body;		/* NUL-terminated copy, or NULL */
	size_t			 bodylen;
	long long		 id;		/* a {id} path segment */
	const char		*name;		/* a {name} path segment */
	char			 namebuf[132];
	const struct route	*route;		/* what route_match found */
	const struct action	*action;	/* the action it belongs to */
	char			 allow[64];	/* Allow header for a 405 */
	int			 status;	/* what was answered */
};

/* Serve one accepted request; always answers (request.c). cache may be
 * NULL: every credential is then checked in the database. */
void		 req_serve(FCGX_Request *, const struct cfg *, PGconn **dbp,
		    struct authcache *cache);

/*
 * The thread's database connection (conn.c), reconnecting when it is missing,
 * broken, or was closed by the server since the last request. NULL when the
 * database is down (the caller answers with reply_db_error(r, NULL)).
 */
PGconn		*req_db(struct req *);

/*
 * Run a statement for the API (conn.c): the result (the caller PQclear()s
 * it), or NULL after answering with the mapped problem. A GET is retried
 * once on a new connection when the old one broke.
 */
PGresult	*req_query(struct req *, const char *sql, int nparams,
		    const char *const *params);

/*
 * One round trip on the thread's connection that runs nothing, so that
 * every NOTIFY committed before the request came has been read, then drain
 * them (conn.c). 0, or -1 when the database cannot be reached (nothing
 * answered).
 */
int		 req_db_sync(struct req *);

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
/* The same from text cJSON printed earlier (a cached document). */
void		 reply_json_printed(struct req *, int status, const char *text);
void		 reply_json(struct req *, int status, const cJSON *body,
		    const char *location);
/*
 * A JSON document written while it is produced, for answers too large to
 * build whole (the log). reply_stream_open() sends the status and headers
 * without Content-Length (nginx frames the body); then the caller writes
 * our own punctuation and keys with reply_stream_literal() and every value
 * with reply_stream_json() (printed by cJSON, so escaped by it). There is
 * no way back to an error answer once open: do the fallible work first.
 */
void		 reply_stream_open(struct req *, int status);
void		 reply_stream_literal(struct req *, const char *text);
void		 reply_stream_json(struct req *, const cJSON *value);

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
/* Input that failed validation: ve's status (400 or 415) with every
 * problem listed and the first as detail. */
void		 reply_invalid(struct req *, const struct verr *ve);
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
	const cJSON	 *items;	/* FT_STRINGS from JSON: the array;
					 * from a form: NULL, s holds the
					 * items separated by spaces or commas */
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
 * holds the decoded strings. An FT_STRINGS field is one value whose items
 * are separated by spaces or commas, each validated as in JSON.
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
 * The items of a validated FT_STRINGS value (JSON array or form list) as a
 * PostgreSQL text[] literal for one parameter, in a new string (free it);
 * NULL when memory ran out. Items hold no quotes (their check refuses
 * them) but are quoted anyway.
 */
char		*value_pg_array(const struct value *);

/* ---- Routes (route.c) -------------------------------------------------- */

typedef int	(*handler_fn)(struct req *);

/* What a route's POST body must be: JSON (the API) or an HTML form. */
enum body_kind { BODY_JSON, BODY_FORM };

struct route {
	const char	*method;
	const char	*pattern;	/* "{id}": digits; "{name}": a user name */
	handler_fn	 handler;	/* NULL on an action's route */
	enum role	 role;
	enum body_kind	 body;
	const char	*back;		/* an action's form: where to 303 */
};

/* ---- Actions (action_table.c, action_run.c) ----------------------------- */

#define ACTION_FIELDS	4
#define ACTION_ROUTES	3

/*
 * One deployer or admin action, the single definition the JSON API and the
 * HTML forms share: its fields and their validators, the SQL statement and
 * the routes that reach it. sql gets $1 = the acting user, then one
 * parameter per field in table order (NULL when absent); its one value is
 * the API's answer (JSON). When subject is set, fields[0] is what the
 * action acts on: on a route whose path has an {id} or {name} it comes
 * from the path, else from the body like the other fields. The form path
 * adds and checks the csrf field itself.
 */
struct action {
	const char		*name;		/* "freeze": how pages name it */
	const char		*label;		/* the form's button */
	const struct field	*fields;
	size_t			 nfields;
	const char		*labels[ACTION_FIELDS];	/* a form's, per field */
	int			 subject;
	int			 created;	/* API: 201 + Location */
	const char		*sql;
	struct route		 routes[ACTION_ROUTES];
};

extern const struct action	actions[];
extern const size_t		nactions;

/* The action called name, or NULL. */
const struct action	*action_find(const char *name);
/* Serve r->action for the API (JSON in and out) or a page form (303). */
int		 action_api(struct req *);
int		 action_form(struct req *);

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/*
 * Find the route for method and path, among the route table and the
 * actions' routes, filling r->id / r->name from the placeholders (r->name
 * points to r->namebuf) and r->action for an action's route. On
 * ROUTE_BAD_METHOD, r->allow lists the methods the path does accept.
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

/* ---- Pages (page.c helpers; one page_<name>.c per page) ---------------- */

/*
 * The session of a gated page: AAL2 and the user nginx vouched for.
 * Answers 403 and returns -1 otherwise; -1 too after a database failure.
 */
int		 page_session(struct req *, struct session *s);
/*
 * Read a page form: the session, then fields[0..nfields) plus the csrf
 * field this adds and checks. vals[i] belongs to fields[i]. Answers and
 * returns -1 on failure. buf holds HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1
 * bytes.
 */
int		 page_form_read(struct req *, struct session *s,
		    const struct field *fields, size_t nfields,
		    struct value *vals, char *buf, size_t bufsz);
/* Run a statement whose one value is JSON; NULL after answering a page. */
cJSON		*page_json(struct req *, const char *sql, int nparams,
		    const char *const *params);
/* A form that POSTs to path (escaped) with a csrf field, the fields of a
 * (as inputs, except a subject the path carries) and a button. */
void		 page_action_form(struct html *, const struct session *s,
		    const struct action *a, const char *path, int with_subject);
/* A form with one button POSTing to prefix + id + suffix. */
void		 page_button(struct html *, const struct session *s,
		    const char *prefix, long long id, const char *suffix,
		    const char *label);
/* "Deployments are frozen by ..." when doc's "freeze" is an object. */
void		 page_freeze_banner(struct html *, const cJSON *doc);
/* The state of deployment d as a person reads it ("state_label"), with
 * the state's name as its title. */
void		 page_state(struct html *, const cJSON *d);
/* The patches of deployment d, separated by spaces. */
void		 page_patches(struct html *, const cJSON *d);
/* doc's "queue" (the active deployment first) as a table. */
void		 page_queue_table(struct html *, const cJSON *doc);
/* doc's member k as a string ("" when absent) or integer (0). */
const char	*page_str(const cJSON *doc, const char *k);
long long	 page_int(const cJSON *doc, const char *k);

/* ---- Handlers, one file per resource ----------------------------------- */

int	 auth_check(struct req *);			/* auth.c */
/*
 * Set r->user and r->role from the request's own Bearer token or session
 * cookie (never from a header naming a user): from the cache for a GET,
 * else from the database. 0, or -1 after answering 401 or 503.
 */
int	 auth_identify(struct req *);
/*
 * Called before the first byte of any answer: an identity taken from the
 * cache stands only if no flush happened since it was found, judged after
 * a statement on this request's own listening connection; otherwise the
 * database is asked again. 0 to go on, -1 after answering instead.
 */
int	 auth_confirm(struct req *);

int	 deployments_list(struct req *);		/* deployments.c */
int	 deployments_get(struct req *);
int	 deployments_log(struct req *);			/* log.c */

int	 queue_get(struct req *);			/* queue.c */
int	 status_get(struct req *);

int	 health_live(struct req *);			/* health.c */
int	 health_ready(struct req *);

int	 login_start(struct req *);			/* login.c */
int	 login_callback(struct req *);

int	 logout_post(struct req *);			/* session.c */

int	 totp_page(struct req *);			/* totp_pages.c */
int	 totp_submit(struct req *);

int	 page_dashboard(struct req *);			/* page_dashboard.c */
int	 page_tokens(struct req *);			/* page_tokens.c */
int	 page_token_create(struct req *);
int	 page_admin(struct req *);			/* page_admin.c */
int	 page_admin_unknown(struct req *);

#endif
