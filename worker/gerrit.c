/* gerrit.c: the few Gerrit REST calls the built-in merge stage makes:
 * read a change, ask whether a revision is mergeable, approve it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gerrit.h"

#define GERRIT_PASSWORD_MAX	512

/* The answer being received; refuses to grow past GERRIT_BODY_MAX. */
struct gerrit_sink {
	char	*buf;
	size_t	 len;
};

int
gerrit_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t
gerrit_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct gerrit_sink	*s = arg;
	size_t			 n = size * nmemb;
	char			*nbuf;

	if (n > GERRIT_BODY_MAX - s->len)
		return 0;		/* too big: abort the transfer */
	if ((nbuf = realloc(s->buf, s->len + n + 1)) == NULL)
		return 0;
	s->buf = nbuf;
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/*
 * Read the HTTP password from path into pw (at most pwsz - 1 bytes, the
 * trailing newline dropped). 0 or -1 with err (naming the file, never
 * its content).
 */
static int
gerrit_password(const char *path, char *pw, size_t pwsz, char *err,
    size_t errsz)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "cannot read [gerrit] password_file %s",
		    path);
		return -1;
	}
	n = read(fd, pw, pwsz - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errsz, "[gerrit] password_file %s is empty", path);
		return -1;
	}
	pw[n] = '\0';
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = '\0';
	return 0;
}

/*
 * One request to [gerrit] url + path (path starts with "/changes/"): GET,
 * or POST of the JSON body post. Authenticated requests go to the /a/
 * prefix with HTTP basic auth. On success returns the HTTP status and the
 * answer in *body (free()); -1 with err on a transport error.
 */
static int
gerrit_http(const struct cfg *cfg, const char *path, const char *post,
    char **body, size_t *len, char *err, size_t errsz)
{
	struct gerrit_sink	 sink = { NULL, 0 };
	struct curl_slist	*h = NULL, *h2;
	char			 cerr[CURL_ERROR_SIZE] = "", *url = NULL;
	char			 pw[GERRIT_PASSWORD_MAX];
	int			 auth = cfg->gerrit_user != NULL;
	long			 status = -1;
	CURLcode		 cc;
	CURL			*c = NULL;

	*body = NULL;
	*len = 0;
	pw[0] = '\0';
	if (asprintf(&url, "%s%s%s", cfg->gerrit_url, auth ? "/a" : "",
	    path) == -1) {
		url = NULL;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if (auth && gerrit_password(cfg->gerrit_password_file, pw, sizeof(pw),
	    err, errsz) == -1)
		goto out;
	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		goto oom;
	if (post != NULL) {
		if ((h2 = curl_slist_append(h, "Content-Type: application/json; "
		    "charset=UTF-8")) == NULL)
			goto oom;
		h = h2;
	}
	if ((c = curl_easy_init()) == NULL)
		goto oom;
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    cfg->gerrit_allow_http_loopback ? "http,https" : "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)GERRIT_TIMEOUT_S) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "spiderpig-worker") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gerrit_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    (auth && (curl_easy_setopt(c, CURLOPT_HTTPAUTH,
	    (long)CURLAUTH_BASIC) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERNAME, cfg->gerrit_user) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PASSWORD, pw) != CURLE_OK)) ||
	    (post != NULL &&
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post) != CURLE_OK)) {
		snprintf(err, errsz, "curl_easy_setopt failed");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(err, errsz, "%s %s: %s%s%s", post ? "POST" : "GET", path,
		    cc == CURLE_WRITE_ERROR ? "answer larger than 1 MiB" :
		    curl_easy_strerror(cc), cerr[0] ? ": " : "", cerr);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status < 100 || status > 599) {
		snprintf(err, errsz, "%s %s: no HTTP status", post ? "POST" :
		    "GET", path);
		status = -1;
		goto out;
	}
	if (sink.buf == NULL && (sink.buf = calloc(1, 1)) == NULL) {
		status = -1;
		goto out;
	}
	*body = sink.buf;
	*len = sink.len;
	sink.buf = NULL;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	explicit_bzero(pw, sizeof(pw));
	free(sink.buf);
	free(url);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return (int)status;
}

/* gerrit_http, where anything but 200 is an error naming the status. */
static int
gerrit_http_ok(const struct cfg *cfg, const char *path, const char *post,
    char **body, size_t *len, char *err, size_t errsz)
{
	int	 status;

	if ((status = gerrit_http(cfg, path, post, body, len, err,
	    errsz)) == -1)
		return -1;
	if (status != 200) {
		snprintf(err, errsz, "%s %s: Gerrit answered HTTP %d",
		    post ? "POST" : "GET", path, status);
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

int
gerrit_fetch(const struct cfg *cfg, long long change, int pin,
    struct gerrit_change *out, char *err, size_t errsz)
{
	char	 path[192], why[256], *body = NULL;
	size_t	 len;
	int	 rc = -1;

	snprintf(path, sizeof(path), "/changes/%lld?o=CURRENT_REVISION&"
	    "o=ALL_REVISIONS&o=DETAILED_LABELS&o=DETAILED_ACCOUNTS", change);
	if (gerrit_http_ok(cfg, path, NULL, &body, &len, err, errsz) == -1)
		return -1;
	if (gerrit_change_parse(body, len, pin, out, why, sizeof(why)) == -1)
		snprintf(err, errsz, "GET /changes/%lld: %s", change, why);
	else if (out->number != change)
		snprintf(err, errsz, "GET /changes/%lld: the answer is about "
		    "change %lld", change, out->number);
	else
		rc = 0;
	free(body);
	return rc;
}

int
gerrit_mergeable(const struct cfg *cfg, long long change,
    const char *revision, int *mergeable, char *err, size_t errsz)
{
	char	 path[192], why[256], *body = NULL;
	size_t	 len;
	int	 rc = -1;

	snprintf(path, sizeof(path), "/changes/%lld/revisions/%s/mergeable",
	    change, revision);
	if (gerrit_http_ok(cfg, path, NULL, &body, &len, err, errsz) == -1)
		return -1;
	if (gerrit_mergeable_parse(body, len, mergeable, why, sizeof(why)) ==
	    -1)
		snprintf(err, errsz, "GET %s: %s", path, why);
	else
		rc = 0;
	free(body);
	return rc;
}

int
gerrit_approve(const struct cfg *cfg, long long change, const char *revision,
    char *err, size_t errsz)
{
	char	 path[192], *body = NULL;
	size_t	 len;

	snprintf(path, sizeof(path), "/changes/%lld/revisions/%s/review",
	    change, revision);
	if (gerrit_http_ok(cfg, path, "{\"labels\":{\"Code-Review\":2}}", &body,
	    &len, err, errsz) == -1)
		return -1;
	free(body);
	return 0;
}
