/* reply.c: every answer the FastCGI app writes goes through here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <fcgiapp.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "util.h"

/*
 * Write the status line and headers; with framed, a Content-Length of len.
 * The length is formatted here with snprintf: FCGX_FPrintF knows no %zu.
 * Returns 0, or -1 (logged) when the headers do not fit.
 */
static int
reply_head(struct req *r, int status, const char *ctype, const char *headers,
    int framed, size_t len)
{
	char	head[4096], clen[48];
	int	n;

	/* An identity from the cache is confirmed before anything is said;
	 * when it no longer holds, auth_confirm has answered instead. */
	if (r->muted)
		return -1;
	if (auth_confirm(r) != 0) {
		r->muted = 1;
		return -1;
	}
	r->status = status;
	clen[0] = '\0';
	if (framed)
		snprintf(clen, sizeof(clen), "Content-Length: %lu\r\n",
		    (unsigned long)len);
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "%s"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n",
	    status, http_status_text(status),
	    ctype != NULL ? "Content-Type: " : "",
	    ctype != NULL ? ctype : "", ctype != NULL ? "\r\n" : "",
	    clen, headers != NULL ? headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		log_warn("reply: headers too long for %s", r->path);
		return -1;
	}
	FCGX_PutStr(head, n, r->fcgx->out);
	return 0;
}

/* Write the status line, headers and a body of len bytes. */
static void
reply_raw(struct req *r, int status, const char *ctype, const char *headers,
    const char *body, size_t len)
{
	if (reply_head(r, status, ctype, headers, 1, len) == 0 && len > 0)
		FCGX_PutStr(body, (int)len, r->fcgx->out);
}

void
reply_stream_open(struct req *r, int status)
{
	reply_head(r, status, "application/json", NULL, 0, 0);
}

void
reply_stream_literal(struct req *r, const char *text)
{
	if (r->muted)
		return;
	FCGX_PutStr(text, (int)strlen(text), r->fcgx->out);
}

/* Print value with cJSON and write it; a value that cannot be printed (out
 * of memory) is written as null so the document stays well-formed. */
void
reply_stream_json(struct req *r, const cJSON *value)
{
	char	*text;

	if (r->muted)
		return;
	if ((text = cJSON_PrintUnformatted(value)) == NULL) {
		log_warn("reply: out of memory printing JSON for %s", r->path);
		reply_stream_literal(r, "null");
		return;
	}
	FCGX_PutStr(text, (int)strlen(text), r->fcgx->out);
	cJSON_free(text);
}

void
reply_json(struct req *r, int status, const cJSON *body, const char *location)
{
	char	*text;
	char	 hdr[PATH_MAX_LEN + 32];

	if ((text = cJSON_PrintUnformatted(body)) == NULL) {
		reply_problem(r, 500, NULL, "out of memory");
		return;
	}
	hdr[0] = '\0';
	if (location != NULL && http_header_safe(location))
		snprintf(hdr, sizeof(hdr), "Location: %s\r\n", location);
	reply_raw(r, status, "application/json", hdr, text, strlen(text));
	cJSON_free(text);
}

void
reply_json_printed(struct req *r, int status, const char *text)
{
	reply_raw(r, status, "application/json", NULL, text, strlen(text));
}

#define PAGE_CSP	"Content-Security-Policy: default-src 'none'; " \
	"img-src 'self' data:; style-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'\r\n"

void
reply_html(struct req *r, int status, const char *headers, const char *body,
    size_t len)
{
	char	hdr[2048];

	if ((size_t)snprintf(hdr, sizeof(hdr), "%s%s", PAGE_CSP,
	    headers != NULL ? headers : "") >= sizeof(hdr)) {
		reply_problem(r, 500, NULL, "internal error: headers too long");
		return;
	}
	reply_raw(r, status, "text/html; charset=utf-8", hdr, body, len);
}

void
reply_redirect(struct req *r, int status, const char *location,
    const char *headers)
{
	char	hdr[3072];

	if (!http_header_safe(location) || (size_t)snprintf(hdr, sizeof(hdr),
	    "Location: %s\r\n%s%s", location, PAGE_CSP,
	    headers != NULL ? headers : "") >= sizeof(hdr)) {
		reply_problem(r, 500, NULL, "internal error: bad redirect");
		return;
	}
	reply_raw(r, status, NULL, hdr, NULL, 0);
}

void
reply_empty(struct req *r, int status, const char *headers)
{
	reply_raw(r, status, NULL, headers, NULL, 0);
}

/* A stable problem type per status (RFC 9457 "type"). */
static const char *
problem_type(int status)
{
	switch (status) {
	case 400: return "urn:spiderpig:problem:invalid-input";
	case 401: return "urn:spiderpig:problem:unauthenticated";
	case 403: return "urn:spiderpig:problem:forbidden";
	case 404: return "urn:spiderpig:problem:not-found";
	case 405: return "urn:spiderpig:problem:method-not-allowed";
	case 409: return "urn:spiderpig:problem:conflict";
	case 413: return "urn:spiderpig:problem:body-too-large";
	case 415: return "urn:spiderpig:problem:unsupported-media-type";
	case 429: return "urn:spiderpig:problem:too-many-requests";
	case 503: return "urn:spiderpig:problem:unavailable";
	default:  return "urn:spiderpig:problem:internal";
	}
}

/* Add "field" (the first problem's) and "errors" (all of them) to doc. */
static void
problem_errors(cJSON *doc, const struct verr *ve)
{
	cJSON	*errs, *e;
	size_t	 i;

	if (ve->e[0].field[0] != '\0')
		cJSON_AddStringToObject(doc, "field", ve->e[0].field);
	errs = cJSON_AddArrayToObject(doc, "errors");
	for (i = 0; errs != NULL && i < ve->n; i++) {
		if ((e = cJSON_CreateObject()) == NULL)
			break;
		if (ve->e[i].field[0] != '\0')
			cJSON_AddStringToObject(e, "field", ve->e[i].field);
		cJSON_AddStringToObject(e, "detail", ve->e[i].detail);
		cJSON_AddItemToArray(errs, e);
	}
}

void
reply_problem(struct req *r, int status, const struct verr *ve,
    const char *fmt, ...)
{
	cJSON	*doc;
	char	 detail[512], hdr[128], *text;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	hdr[0] = '\0';
	if (status == 503)
		snprintf(hdr, sizeof(hdr), "Retry-After: 2\r\n");
	else if (status == 405 && r->allow[0] != '\0')
		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", r->allow);
	else if (status == 401)
		snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer\r\n");

	if ((doc = cJSON_CreateObject()) == NULL)
		goto oom;
	cJSON_AddStringToObject(doc, "type", problem_type(status));
	cJSON_AddStringToObject(doc, "title", http_status_text(status));
	cJSON_AddNumberToObject(doc, "status", status);
	cJSON_AddStringToObject(doc, "detail", detail);
	if (ve != NULL && ve->n > 0)
		problem_errors(doc, ve);
	if ((text = cJSON_PrintUnformatted(doc)) == NULL) {
		cJSON_Delete(doc);
		goto oom;
	}
	reply_raw(r, status, "application/problem+json", hdr, text,
	    strlen(text));
	cJSON_free(text);
	cJSON_Delete(doc);
	return;
oom:
	reply_raw(r, 500, "text/plain", NULL, "out of memory\n", 14);
}

void
reply_invalid(struct req *r, const struct verr *ve)
{
	reply_problem(r, ve->status != 0 ? ve->status : 400, ve, "%s",
	    ve->n > 0 ? ve->e[0].detail : "invalid input");
}

void
reply_db_error(struct req *r, const PGresult *err)
{
	struct verr	 ve;
	const char	*msg, *col;
	int		 status = db_error_status(err);

	if (status == 503) {
		reply_problem(r, 503, NULL, "the database is unavailable; "
		    "try again shortly");
		return;
	}
	msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);
	col = PQresultErrorField(err, PG_DIAG_COLUMN_NAME);
	if (status < 400 || status > 499) {
		/* Internal: log the cause, tell the client nothing of it. */
		log_warn("%s %s: database error %s: %s", r->method, r->path,
		    PQresultErrorField(err, PG_DIAG_SQLSTATE),
		    msg != NULL ? msg : "?");
		reply_problem(r, 500, NULL, "internal error");
		return;
	}
	memset(&ve, 0, sizeof(ve));
	if (col != NULL && col[0] != '\0')
		verr_add(&ve, col, "%s", msg != NULL ? msg : "invalid");
	reply_problem(r, status, ve.n > 0 ? &ve : NULL, "%s",
	    msg != NULL ? msg : http_status_text(status));
}
