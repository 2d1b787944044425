/* httpc.c: the HTTP client over libcurl, the only network I/O in lib/:
 * GET and form POST with hard limits on size, time and protocols. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "httpc.h"
#include "util.h"

/* Append s percent-encoded (RFC 3986 unreserved kept) to b; -1 if no room. */
static int
pct_append(char *b, size_t bsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (*o + 1 >= bsz)
				return -1;
			b[(*o)++] = (char)c;
		} else {
			if (*o + 3 >= bsz)
				return -1;
			b[(*o)++] = '%';
			b[(*o)++] = hex[c >> 4];
			b[(*o)++] = hex[c & 0xf];
		}
	}
	b[*o] = '\0';
	return 0;
}

static int
raw_append(char *b, size_t bsz, size_t *o, const char *s)
{
	size_t	l = strlen(s);

	if (*o + l >= bsz)
		return -1;
	memcpy(b + *o, s, l + 1);
	*o += l;
	return 0;
}

char *
httpc_form_encode(const char *prefix, char first_sep, const char *const *f)
{
	size_t	 i, need = 2, o = 0;
	char	*b, sep[2] = { first_sep, '\0' };

	if (prefix != NULL)
		need += strlen(prefix);
	for (i = 0; f[i] != NULL && f[i + 1] != NULL; i += 2)
		need += 3 * (strlen(f[i]) + strlen(f[i + 1])) + 2;
	if ((b = malloc(need)) == NULL)
		return NULL;
	b[0] = '\0';
	if (prefix != NULL && raw_append(b, need, &o, prefix) == -1)
		goto fail;
	for (i = 0; f[i] != NULL && f[i + 1] != NULL; i += 2) {
		if (sep[0] != '\0' && raw_append(b, need, &o, sep) == -1)
			goto fail;
		sep[0] = '&';
		if (pct_append(b, need, &o, f[i]) == -1 ||
		    raw_append(b, need, &o, "=") == -1 ||
		    pct_append(b, need, &o, f[i + 1]) == -1)
			goto fail;
	}
	return b;
fail:
	free(b);
	return NULL;
}

struct http_sink {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	char	*cache_control;	/* the last Cache-Control header's value */
};

#define CACHE_CONTROL_MAX	256	/* longer values are ignored */

void
httpc_response_free(struct httpc_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->cache_control);
	memset(r, 0, sizeof(*r));
}

int
httpc_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* libcurl write callback: append, refusing to grow past sink->max. */
static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_sink	*s = arg;
	size_t			 n = size * nmemb, ncap;
	char			*nbuf;

	if (n > s->max - s->len)
		return 0;		/* too big: abort the transfer */
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((nbuf = realloc(s->buf, ncap)) == NULL)
			return 0;
		s->buf = nbuf;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/*
 * libcurl header callback: keep the value of a Cache-Control header (the
 * last one; headers of an interim 1xx answer are replaced by the final
 * one's). Header lines are not NUL-terminated and end in CRLF.
 */
static size_t
http_header(char *line, size_t size, size_t nitems, void *arg)
{
	static const char	 name[] = "cache-control:";
	struct http_sink	*s = arg;
	size_t			 n = size * nitems, vlen;
	const char		*v;

	if (n < sizeof(name) - 1 || strncasecmp(line, name,
	    sizeof(name) - 1) != 0)
		return n;
	v = line + sizeof(name) - 1;
	vlen = n - (sizeof(name) - 1);
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	free(s->cache_control);
	s->cache_control = NULL;
	if (vlen <= CACHE_CONTROL_MAX && memchr(v, '\0', vlen) == NULL)
		s->cache_control = strndup(v, vlen);
	return n;
}

/*
 * The options every request has: the URL, https only (http too with
 * HTTPC_ALLOW_LOOPBACK_HTTP), no redirects, TLS verified, the time and size
 * limits, our sink for the body and the Cache-Control header, and curl's
 * error text into cerr (CURL_ERROR_SIZE bytes). 0 or -1.
 */
static int
http_setup(CURL *c, const char *url, int flags, const char *postbody,
    size_t postlen, struct curl_slist *headers, size_t max_bytes,
    long timeout_s, struct http_sink *sink, char *cerr)
{
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    (flags & HTTPC_ALLOW_LOOPBACK_HTTP) ? "http,https" : "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    timeout_s < 10 ? timeout_s : 10L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)max_bytes) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "spiderpig-oidc") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, sink) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    (headers != NULL &&
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK) ||
	    (postbody != NULL &&
	    (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)postlen) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, postbody) != CURLE_OK)))
		return -1;
	return 0;
}

/*
 * One request with the common limits; postbody NULL means GET, else its
 * postlen bytes are sent. headers is an optional curl_slist. Returns the
 * HTTP status or -1.
 */
static int
http_request_len(const char *url, int flags, const char *postbody,
    size_t postlen, struct curl_slist *headers, size_t max_bytes,
    long timeout_s, struct httpc_response *out, char *err, size_t errsz)
{
	struct http_sink	 sink = { NULL, 0, 0, max_bytes, NULL };
	char			 cerr[CURL_ERROR_SIZE] = "";
	CURL			*c = NULL;
	CURLcode		 cc;
	long			 status = -1;

	memset(out, 0, sizeof(*out));
	if (!util_url_ok(url, flags)) {
		util_seterr(err, errsz,
		    "refusing URL %.200s", url ? url : "(null)");
		return -1;
	}
	if (max_bytes == 0 || timeout_s <= 0) {
		util_seterr(err, errsz, "bad limits");
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		util_seterr(err, errsz, "curl_easy_init failed");
		return -1;
	}
	if (http_setup(c, url, flags, postbody, postlen, headers, max_bytes,
	    timeout_s, &sink, cerr) != 0) {
		util_seterr(err, errsz, "curl_easy_setopt failed");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		util_seterr(err, errsz, "%s: %s", cc == CURLE_WRITE_ERROR ?
		    "response too large" : curl_easy_strerror(cc), cerr);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status < 100 || status > 599) {
		util_seterr(err, errsz, "no HTTP status");
		status = -1;
		goto out;
	}
	if (sink.buf == NULL && (sink.buf = calloc(1, 1)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		status = -1;
		goto out;
	}
	out->status = (int)status;
	out->body = sink.buf;
	out->len = sink.len;
	out->cache_control = sink.cache_control;
	sink.buf = sink.cache_control = NULL;
out:
	free(sink.buf);
	free(sink.cache_control);
	curl_easy_cleanup(c);
	return (int)status;
}

/* http_request_len with a NUL-terminated postbody (or NULL). */
static int
http_request(const char *url, int flags, const char *postbody,
    struct curl_slist *headers, size_t max_bytes, long timeout_s,
    struct httpc_response *out, char *err, size_t errsz)
{
	return http_request_len(url, flags, postbody,
	    postbody != NULL ? strlen(postbody) : 0, headers, max_bytes,
	    timeout_s, out, err, errsz);
}

int
httpc_get(const char *url, int flags, size_t max_bytes, long timeout_s,
    struct httpc_response *out, char *err, size_t errsz)
{
	struct curl_slist	*h;
	int			 rc;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		return -1;
	rc = http_request(url, flags, NULL, h, max_bytes, timeout_s, out, err,
	    errsz);
	curl_slist_free_all(h);
	return rc;
}

/* s percent-encoded into a new string (free()), or NULL. */
static char *
pct_encode(const char *s)
{
	size_t	 need = 3 * strlen(s) + 1, o = 0;
	char	*b;

	if ((b = malloc(need)) == NULL)
		return NULL;
	if (pct_append(b, need, &o, s) == -1) {
		free(b);
		return NULL;
	}
	return b;
}

/* "Authorization: Basic base64(user:pass)": both parts percent-encoded
 * first when form_encoded (client_secret_basic, RFC 6749 2.3.1), as they
 * are otherwise (RFC 7617). */
static char *
basic_auth_header(const char *user, const char *pass, int form_encoded)
{
	static const char prefix[] = "Authorization: Basic ";
	char	*eu = NULL, *ep = NULL, *joined = NULL, *h = NULL;
	size_t	 jlen;

	if ((eu = form_encoded ? pct_encode(user) : strdup(user)) == NULL ||
	    (ep = form_encoded ? pct_encode(pass) : strdup(pass)) == NULL)
		goto out;
	jlen = strlen(eu) + 1 + strlen(ep);
	if ((joined = malloc(jlen + 1)) == NULL)
		goto out;
	snprintf(joined, jlen + 1, "%s:%s", eu, ep);
	if ((h = malloc(sizeof(prefix) + 4 * (jlen / 3 + 1))) == NULL)
		goto out;
	memcpy(h, prefix, sizeof(prefix));
	EVP_EncodeBlock((unsigned char *)h + sizeof(prefix) - 1,
	    (unsigned char *)joined, (int)jlen);
out:
	if (ep != NULL)
		OPENSSL_cleanse(ep, strlen(ep));
	if (joined != NULL)
		OPENSSL_cleanse(joined, jlen);
	free(eu);
	free(ep);
	free(joined);
	return h;
}

/*
 * One request that wants JSON back: Accept: application/json, the
 * Content-Type when there is a body, and Basic authentication when
 * basic_user is set (its parts form-encoded first when form_auth, as
 * RFC 6749 asks of a client's credentials). The header list and the
 * Authorization value are freed, the latter cleansed, on every path.
 */
static int
json_request(const char *url, int flags, const char *content_type,
    const char *body, const char *basic_user, const char *basic_pass,
    int form_auth, size_t max_bytes, long timeout_s,
    struct httpc_response *out, char *err, size_t errsz)
{
	struct curl_slist	*h = NULL, *nh;
	char			*auth = NULL, *ct = NULL;
	int			 rc = -1;

	if ((nh = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto nomem;
	h = nh;
	if (body != NULL) {
		if (asprintf(&ct, "Content-Type: %s", content_type) == -1) {
			ct = NULL;
			goto nomem;
		}
		if ((nh = curl_slist_append(h, ct)) == NULL)
			goto nomem;
		h = nh;
	}
	if (basic_user != NULL) {
		if ((auth = basic_auth_header(basic_user, basic_pass,
		    form_auth)) == NULL)
			goto nomem;
		if ((nh = curl_slist_append(h, auth)) == NULL)
			goto nomem;
		h = nh;
	}
	rc = http_request(url, flags, body, h, max_bytes, timeout_s, out, err,
	    errsz);
	goto out;
nomem:
	util_seterr(err, errsz, "out of memory");
out:
	if (auth != NULL)
		OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
	free(ct);
	curl_slist_free_all(h);
	return rc;
}

int
httpc_post_form(const char *url, int flags, const char *basic_user,
    const char *basic_pass, const char *const *fields, size_t max_bytes,
    long timeout_s, struct httpc_response *out, char *err, size_t errsz)
{
	char	*form;
	int	 rc;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (fields == NULL || (basic_user != NULL && basic_pass == NULL))
		return -1;
	if ((form = httpc_form_encode(NULL, 0, fields)) == NULL) {
		util_seterr(err, errsz, "out of memory");
		return -1;
	}
	rc = json_request(url, flags, "application/x-www-form-urlencoded",
	    form, basic_user, basic_pass, 1, max_bytes, timeout_s, out, err,
	    errsz);
	free(form);
	return rc;
}

int
httpc_json(const char *url, int flags, const char *basic_user,
    const char *basic_pass, const char *json, size_t max_bytes,
    long timeout_s, struct httpc_response *out, char *err, size_t errsz)
{
	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (basic_user != NULL && basic_pass == NULL)
		return -1;
	return json_request(url, flags, "application/json; charset=UTF-8",
	    json, basic_user, basic_pass, 0, max_bytes, timeout_s, out, err,
	    errsz);
}

int
httpc_post(const char *url, int flags, const char *content_type,
    const char *body, size_t body_len, const char *const *headers,
    size_t max_bytes, long timeout_s, struct httpc_response *out, char *err,
    size_t errsz)
{
	struct curl_slist	*h = NULL, *nh;
	char			*ct = NULL;
	size_t			 i;
	int			 rc = -1;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (body == NULL || content_type == NULL)
		return -1;
	if (asprintf(&ct, "Content-Type: %s", content_type) == -1) {
		ct = NULL;
		goto nomem;
	}
	if ((nh = curl_slist_append(h, ct)) == NULL)
		goto nomem;
	h = nh;
	/* The whole body at once: no 100-continue round trip. */
	if ((nh = curl_slist_append(h, "Expect:")) == NULL)
		goto nomem;
	h = nh;
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((nh = curl_slist_append(h, headers[i])) == NULL)
			goto nomem;
		h = nh;
	}
	rc = http_request_len(url, flags, body, body_len, h, max_bytes,
	    timeout_s, out, err, errsz);
	goto out;
nomem:
	util_seterr(err, errsz, "out of memory");
out:
	free(ct);
	curl_slist_free_all(h);
	return rc;
}
