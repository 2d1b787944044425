/* html.c: building HTML pages. Template text is ours; everything else goes
 * through html_escape(), the one escaping function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "util.h"

/* Append len bytes; stops growing (and remembers) when memory runs out. */
static void
html_put(struct html *h, const char *s, size_t len)
{
	char	*nb;
	size_t	 ncap;

	if (h->failed || len == 0)
		return;
	if (h->len + len + 1 > h->cap) {
		ncap = h->cap == 0 ? 4096 : h->cap;
		while (ncap < h->len + len + 1)
			ncap *= 2;
		if ((nb = realloc(h->buf, ncap)) == NULL) {
			h->failed = 1;
			return;
		}
		h->buf = nb;
		h->cap = ncap;
	}
	memcpy(h->buf + h->len, s, len);
	h->len += len;
	h->buf[h->len] = '\0';
}

void
html_raw(struct html *h, const char *s)
{
	html_put(h, s, strlen(s));
}

void
html_escape(struct html *h, const char *s)
{
	const char	*run = s;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		const char *e;

		switch (*s) {
		case '&':  e = "&amp;"; break;
		case '<':  e = "&lt;"; break;
		case '>':  e = "&gt;"; break;
		case '"':  e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default:   continue;
		}
		html_put(h, run, (size_t)(s - run));
		html_raw(h, e);
		run = s + 1;
	}
	html_put(h, run, (size_t)(s - run));
}

void
html_int(struct html *h, long long n)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%lld", n);
	html_raw(h, buf);
}

void
html_time(struct html *h, const char *iso)
{
	if (iso == NULL || iso[0] == '\0') {
		html_raw(h, "-");
		return;
	}
	html_raw(h, "<time datetime=\"");
	html_escape(h, iso);
	html_raw(h, "\">");
	html_escape(h, iso);
	html_raw(h, "</time>");
}

void
html_duration(struct html *h, double seconds, int running)
{
	char		buf[64];
	long long	s;

	if (seconds < 0) {
		html_raw(h, "-");
		return;
	}
	s = (long long)(seconds + 0.5);
	if (s < 60)
		snprintf(buf, sizeof(buf), "%llds", s);
	else if (s < 3600)
		snprintf(buf, sizeof(buf), "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, sizeof(buf), "%lldh %02lldm", s / 3600,
		    s / 60 % 60);
	html_raw(h, "<span class=\"duration\" data-seconds=\"");
	html_int(h, s);
	html_raw(h, running ? "\" data-running=\"1\">" : "\">");
	html_raw(h, buf);
	html_raw(h, "</span>");
}

void
html_free(struct html *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

void
html_begin(struct html *h, const char *title, const struct session *s)
{
	html_raw(h, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">"
	    "<meta name=\"color-scheme\" content=\"light dark\"><title>");
	if (h->tab != NULL) {
		html_escape(h, h->tab);
		html_raw(h, " - ");
	}
	html_escape(h, title);
	html_raw(h, " - spiderpig</title>"
	    "<link rel=\"stylesheet\" href=\"/static/spiderpig.css\">"
	    "<script src=\"/static/spiderpig.js\" defer></script>");
	if (h->extra_head != NULL)
		html_raw(h, h->extra_head);
	html_raw(h, "</head>\n<body");
	if (s != NULL && s->aal == 2) {
		html_raw(h, " data-user=\"");
		html_escape(h, s->user);
		html_raw(h, "\" data-role=\"");
		html_escape(h, s->role);
		html_raw(h, "\"");
	}
	html_raw(h, ">\n<a class=\"skip\" href=\"#main\">Skip to the "
	    "content</a>\n<header><p class=\"brand\"><a href=\"/\">"
	    "spiderpig</a></p>");
	if (s != NULL && s->aal == 2) {
		html_raw(h, "<nav aria-label=\"Main\"><a href=\"/\">Dashboard"
		    "</a> <a href=\"/deployments\">History</a> "
		    "<a href=\"/tokens\">API tokens</a> ");
		if (strcmp(s->role, "admin") == 0)
			html_raw(h, "<a href=\"/admin\">Admin</a> "
			    "<a href=\"/admin/audit\">Audit</a> ");
		html_raw(h, "<span class=\"who\">");
		html_escape(h, s->user);
		html_raw(h, " (");
		html_escape(h, s->role);
		html_raw(h, ")</span> <form method=\"post\" action=\"/logout\" "
		    "class=\"inline\">");
		html_csrf(h, s);
		html_raw(h, "<button>Log out</button></form></nav>");
	}
	html_raw(h, "</header>\n<main id=\"main\">\n<h1>");
	html_escape(h, title);
	html_raw(h, "</h1>\n");
	if (h->flash != NULL) {
		html_raw(h, "<p class=\"flash\" role=\"status\">");
		html_escape(h, h->flash);
		html_raw(h, "</p>\n");
	}
}

void
html_end(struct html *h)
{
	html_raw(h, "</main>\n</body></html>\n");
}

void
html_csrf(struct html *h, const struct session *s)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(h, s != NULL ? s->csrf : "");
	html_raw(h, "\">");
}

/* The page for a build that ran out of memory: a literal, so answering
 * needs no more memory and cannot come back here. */
static const char	oom_page[] = "<!doctype html>\n<html lang=\"en\"><head>"
	"<meta charset=\"utf-8\"><title>Internal error - spiderpig</title>"
	"</head><body><h1>Internal error</h1><p>Out of memory.</p></body>"
	"</html>\n";

void
html_send(struct req *r, int status, const char *headers, struct html *h)
{
	char	hdr[1024];

	if (h->failed || h->buf == NULL)
		reply_html(r, 500, NULL, oom_page, sizeof(oom_page) - 1);
	else if (h->clear_flash) {
		snprintf(hdr, sizeof(hdr), "%s%s", FLASH_COOKIE_CLEAR,
		    headers != NULL ? headers : "");
		reply_html(r, status, hdr, h->buf, h->len);
	} else
		reply_html(r, status, headers, h->buf, h->len);
	html_free(h);
}

void
html_message(struct req *r, int status, const char *headers,
    const char *title, const char *message)
{
	struct html	h = { 0 };

	html_begin(&h, title, NULL);
	html_raw(&h, "<p class=\"error-detail\">");
	html_escape(&h, message);
	html_raw(&h, "</p>\n<p><a href=\"/\">Back to spiderpig</a></p>\n");
	html_end(&h);
	html_send(r, status, headers, &h);
}

void
html_db_error(struct req *r, const PGresult *err)
{
	const char	*msg;
	int		 status = db_error_status(err);

	if (status == 503) {
		html_message(r, 503, "Retry-After: 2\r\n", "Unavailable",
		    "The database is unavailable; try again shortly.");
		return;
	}
	msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);
	if (status < 400 || status > 499) {
		log_warn("%s %s: database error %s: %s", r->method, r->path,
		    PQresultErrorField(err, PG_DIAG_SQLSTATE),
		    msg != NULL ? msg : "?");
		html_message(r, 500, NULL, "Internal error",
		    "Something went wrong; it has been logged.");
		return;
	}
	html_message(r, status, NULL, http_status_text(status),
	    msg != NULL ? msg : http_status_text(status));
}
