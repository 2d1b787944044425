/* http.h: pure helpers for HTTP requests and responses (no I/O). */
#ifndef SPIDERPIG_HTTP_H
#define SPIDERPIG_HTTP_H

#include <stddef.h>

/* Hard caps on outside input. */
#define HTTP_BODY_MAX		(64 * 1024)
#define HTTP_QUERY_MAX		2048
#define HTTP_QUERY_PARAMS	16
#define HTTP_TOKEN_MAX		512
#define HTTP_FORM_MAX		8192	/* an HTML form body */
#define HTTP_FORM_PARAMS	16

/* One decoded query parameter; both strings point into the caller's buffer. */
struct http_param {
	const char	*key;
	const char	*val;
};

/* Reason phrase for a status code ("Not Found"); "Unknown" for others. */
const char	*http_status_text(int status);

/*
 * Split and percent-decode a query string ("a=1&b=x%20y") into at most max
 * parameters, copying the decoded text into buf (at least strlen(qs) + max
 * + 1 bytes). Empty pieces ("a=1&&b=2")
 * are skipped, a key without '=' has the value "". Returns the number of
 * parameters, or -1 with *why set when the string is too long, has too many
 * parameters, a bad %-escape, or decodes to a NUL byte.
 */
int		 http_query_parse(const char *qs, struct http_param *out,
		    size_t max, char *buf, size_t bufsz, const char **why);

/*
 * The same for an application/x-www-form-urlencoded body of len bytes (at
 * most HTTP_FORM_MAX; buf at least len + max + 1 bytes), strictly: every
 * field needs a non-empty name and '='.
 */
int		 http_form_parse(const char *body, size_t len,
		    struct http_param *out, size_t max, char *buf, size_t bufsz,
		    const char **why);

/* 1 when a Content-Type value is application/x-www-form-urlencoded. */
int		 http_content_type_is_form(const char *ctype);

/* 1 when a Content-Type value names JSON ("application/json", optionally
 * with parameters such as "; charset=utf-8"), else 0. */
int		 http_content_type_is_json(const char *ctype);

/* 1 when buf[0..len) is well-formed UTF-8 without NUL bytes, else 0. */
int		 http_text_valid(const char *buf, size_t len);

/*
 * Find cookie name in a Cookie header value. Returns a pointer to the value
 * (not NUL-terminated) and its length in *len, or NULL.
 */
const char	*http_cookie_get(const char *cookies, const char *name,
		    size_t *len);

/*
 * The token of an "Authorization: Bearer <token>" value (scheme matched
 * case-insensitively), or NULL when the header is another scheme or empty.
 */
const char	*http_bearer_token(const char *authz);

/* 1 when s may go into a response header value (printable ASCII), else 0. */
int		 http_header_safe(const char *s);

#endif
