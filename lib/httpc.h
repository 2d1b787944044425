/* httpc.h: the HTTP client (libcurl): the only network I/O in lib/. */
#ifndef SPIDERPIG_HTTPC_H
#define SPIDERPIG_HTTPC_H

#include <stddef.h>

#include "util.h"

/* Flag: allow http:// to a loopback host (tests, make run); otherwise
 * https only. The same rule as util_url_ok. */
#define HTTPC_ALLOW_LOOPBACK_HTTP	UTIL_URL_LOOPBACK_HTTP

/* What a request brought back; release with httpc_response_free. */
struct httpc_response {
	int	 status;		/* HTTP status */
	char	*body;			/* NUL-terminated, len bytes */
	size_t	 len;
	char	*cache_control;		/* the Cache-Control value or NULL */
};

/* Members only; accepts NULL and a zeroed response. */
void	 httpc_response_free(struct httpc_response *);

/* Call once at startup, before threads start. 0 or -1. */
int	 httpc_init(void);

/*
 * GET url: no redirects, TLS verified, https only unless flags has
 * HTTPC_ALLOW_LOOPBACK_HTTP, the URL checked with util_url_ok. A body over
 * max_bytes or a transfer longer than timeout_s seconds fails. Returns the
 * HTTP status with *out filled (httpc_response_free), or -1 with err and
 * *out zeroed.
 */
int	 httpc_get(const char *url, int flags, size_t max_bytes,
	    long timeout_s, struct httpc_response *out, char *err,
	    size_t errsz);

/*
 * POST an application/x-www-form-urlencoded body built from fields, a NULL
 * terminated list of name, value pairs, authenticating with HTTP Basic
 * (client_secret_basic, RFC 6749 2.3.1: both parts form-encoded) when
 * basic_user is not NULL. Same limits and result as httpc_get.
 */
int	 httpc_post_form(const char *url, int flags, const char *basic_user,
	    const char *basic_pass, const char *const *fields,
	    size_t max_bytes, long timeout_s, struct httpc_response *out,
	    char *err, size_t errsz);

/*
 * GET url (json NULL) or POST the JSON text json to it, with "Accept:
 * application/json", authenticating with HTTP Basic (RFC 7617: user and
 * password as they are, never logged) when basic_user is not NULL. Same
 * limits and result as httpc_get.
 */
int	 httpc_json(const char *url, int flags, const char *basic_user,
	    const char *basic_pass, const char *json, size_t max_bytes,
	    long timeout_s, struct httpc_response *out, char *err,
	    size_t errsz);

/*
 * POST body (body_len bytes, sent exactly) as content_type with the extra
 * header lines in headers ("Name: value", NULL-terminated; may be NULL),
 * no "Expect: 100-continue". Same limits and result as httpc_get.
 */
int	 httpc_post(const char *url, int flags, const char *content_type,
	    const char *body, size_t body_len, const char *const *headers,
	    size_t max_bytes, long timeout_s, struct httpc_response *out,
	    char *err, size_t errsz);

/*
 * prefix (may be NULL), then first_sep (when not 0), then the NULL
 * terminated name, value list f as name=value&..., every name and value
 * percent-encoded (RFC 3986 unreserved characters kept). A new string
 * (free()) or NULL when out of memory.
 */
char	*httpc_form_encode(const char *prefix, char first_sep,
	    const char *const *f);

#endif
