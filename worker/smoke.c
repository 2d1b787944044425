/* smoke.c: the built-in smoke test stage (kind = httpbb): read httpbb YAML
 * files (lib/httpbb.c) and send every test case to every target in
 * parallel with libcurl's multi interface, the YAML host as the Host header
 * (and TLS name), as httpbb --hosts does. Every result goes into the log;
 * any failure, or a file that does not parse, fails the stage.
 *
 * Keys of [stage NAME] with kind = httpbb:
 *   tests = /path/file.yaml        repeatable, at least one
 *   targets = HOST:PORT[, ...]     repeatable, at least one: the servers
 *   request_timeout = 10           seconds per request
 *   parallel = 8                   requests in flight at most */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "builtin.h"
#include "httpbb.h"
#include "notify.h"
#include "util.h"

#define SMOKE_MAX_FILES		16
#define SMOKE_MAX_TARGETS	32
#define SMOKE_BODY_MAX		(1024 * 1024)
#define SMOKE_HEADERS_MAX	100

struct smoke_conf {
	const char	*tests[SMOKE_MAX_FILES];
	size_t		 ntests;
	char		*targets[SMOKE_MAX_TARGETS];	/* "host:port" */
	size_t		 ntargets;
	long		 request_timeout;		/* seconds */
	long		 parallel;
};

/* One request in flight: a test case against a target. */
struct smoke_req {
	const struct httpbb_case *c;
	const char	*file;
	const char	*target;
	char		*url;		/* base + path, as requested */
	CURL		*easy;
	struct curl_slist *hdrs;
	struct curl_slist *connect_to;	/* CURLOPT_CONNECT_TO keeps it */
	char		 errbuf[CURL_ERROR_SIZE];
	char		*body;
	size_t		 bodylen;
	int		 truncated;
	struct httpbb_kv resp[SMOKE_HEADERS_MAX];
	size_t		 nresp;
	int64_t		 started;
};

/* Clear conf's targets. */
static void
smoke_conf_free(struct smoke_conf *sc)
{
	size_t	i;

	for (i = 0; i < sc->ntargets; i++)
		free(sc->targets[i]);
	memset(sc, 0, sizeof(*sc));
}

/* A "host:port" target: a name or address and a port, nothing else. */
static int
smoke_target_ok(const char *t)
{
	const char	*colon = strrchr(t, ':');
	long long	 port;
	const char	*errstr;

	if (colon == NULL || colon == t)
		return 0;
	if (strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-[]:") != strlen(t))
		return 0;
	return util_strtonum(colon + 1, 1, 65535, &port, &errstr) == 0;
}

/* Split a comma-separated targets value into sc. */
static int
smoke_targets(struct smoke_conf *sc, const char *v, char *why, size_t whysz)
{
	const char	*p = v, *e;
	size_t		 len;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ", ");
		len = (size_t)(e - p);
		if (sc->ntargets == SMOKE_MAX_TARGETS) {
			snprintf(why, whysz, "more than %d targets",
			    SMOKE_MAX_TARGETS);
			return -1;
		}
		if ((sc->targets[sc->ntargets] = strndup(p, len)) == NULL)
			return -1;
		if (!smoke_target_ok(sc->targets[sc->ntargets++])) {
			snprintf(why, whysz, "target '%.64s' is not host:port",
			    sc->targets[sc->ntargets - 1]);
			return -1;
		}
		p = e;
	}
	return 0;
}

/* Parse the stage's keys into sc. */
static int
smoke_conf_parse(char *const *opts, size_t nopts, struct smoke_conf *sc,
    char *why, size_t whysz)
{
	size_t		 i;
	long long	 n;
	const char	*v, *errstr, *k;

	memset(sc, 0, sizeof(*sc));
	sc->request_timeout = 10;
	sc->parallel = 8;
	for (i = 0; i < nopts; i++) {
		k = opts[i];
		if ((v = builtin_opt(k, "tests")) != NULL) {
			if (v[0] != '/' || sc->ntests == SMOKE_MAX_FILES) {
				snprintf(why, whysz, "tests must be absolute "
				    "paths, at most %d", SMOKE_MAX_FILES);
				return -1;
			}
			sc->tests[sc->ntests++] = v;
			continue;
		}
		if ((v = builtin_opt(k, "targets")) != NULL) {
			if (smoke_targets(sc, v, why, whysz) == -1)
				return -1;
			continue;
		}
		if ((v = builtin_opt(k, "request_timeout")) != NULL) {
			if (util_strtonum(v, 1, 600, &n, &errstr) == -1) {
				snprintf(why, whysz, "request_timeout: 1 to 600");
				return -1;
			}
			sc->request_timeout = (long)n;
			continue;
		}
		if ((v = builtin_opt(k, "parallel")) != NULL) {
			if (util_strtonum(v, 1, 256, &n, &errstr) == -1) {
				snprintf(why, whysz, "parallel: 1 to 256");
				return -1;
			}
			sc->parallel = (long)n;
			continue;
		}
		snprintf(why, whysz, "unknown key '%.*s'", (int)strcspn(k, "="),
		    k);
		return -1;
	}
	if (sc->ntests == 0 || sc->ntargets == 0) {
		snprintf(why, whysz, "needs tests and targets");
		return -1;
	}
	return 0;
}

int
smoke_check(char *const *opts, size_t nopts, char *why, size_t whysz)
{
	struct smoke_conf sc;
	int		 rc = smoke_conf_parse(opts, nopts, &sc, why, whysz);

	smoke_conf_free(&sc);
	return rc;
}

/* Read a whole file of at most HTTPBB_FILE_MAX bytes; NULL with why. */
static char *
smoke_read(const char *path, size_t *len, char *why, size_t whysz)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(why, whysz, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > HTTPBB_FILE_MAX) {
		snprintf(why, whysz, "not a regular file of at most %d bytes",
		    HTTPBB_FILE_MAX);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

static size_t
smoke_body(char *data, size_t size, size_t n, void *arg)
{
	struct smoke_req *r = arg;
	size_t		 len = size * n, room = SMOKE_BODY_MAX - r->bodylen;
	char		*nb;

	if (len > room) {
		r->truncated = 1;
		len = room;
	}
	if (len > 0) {
		if ((nb = realloc(r->body, r->bodylen + len + 1)) == NULL)
			return 0;
		r->body = nb;
		memcpy(r->body + r->bodylen, data, len);
		r->bodylen += len;
		r->body[r->bodylen] = '\0';
	}
	return size * n;
}

/* One header line of the answer; a status line starts a new set (after a
 * 100 Continue). */
static size_t
smoke_header(char *data, size_t size, size_t n, void *arg)
{
	struct smoke_req *r = arg;
	size_t		 len = size * n, nl, vl;
	const char	*colon, *v;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		while (r->nresp > 0) {
			r->nresp--;
			free(r->resp[r->nresp].name);
			free(r->resp[r->nresp].value);
		}
		return len;
	}
	if ((colon = memchr(data, ':', len)) == NULL ||
	    r->nresp == SMOKE_HEADERS_MAX)
		return len;
	nl = (size_t)(colon - data);
	v = colon + 1;
	vl = len - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	r->resp[r->nresp].name = strndup(data, nl);
	r->resp[r->nresp].value = strndup(v, vl);
	if (r->resp[r->nresp].name == NULL || r->resp[r->nresp].value == NULL) {
		free(r->resp[r->nresp].name);
		free(r->resp[r->nresp].value);
		return 0;
	}
	r->nresp++;
	return len;
}

/* Set up r's easy handle: URL base+path, connected to the target, the
 * YAML host as Host and TLS name. The lists the handle points to stay in
 * r until smoke_req_free(). */
static int
smoke_setup(struct smoke_req *r, long timeout_s)
{
	const char	*base = r->c->base;
	size_t		 blen = strlen(base), i;
	char		*url = NULL, *connect = NULL, *h = NULL;
	struct curl_slist *nh;
	int		 rc = -1;

	if ((r->easy = curl_easy_init()) == NULL)
		return -1;
	if (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (asprintf(&url, "%.*s%s", (int)blen, base, r->c->path) == -1) {
		url = NULL;
		goto out;
	}
	if (asprintf(&connect, "::%s", r->target) == -1) {
		connect = NULL;
		goto out;
	}
	if ((r->connect_to = curl_slist_append(NULL, connect)) == NULL)
		goto out;
	for (i = 0; i <= r->c->nrequest_headers; i++) {
		if (i < r->c->nrequest_headers) {
			if (asprintf(&h, "%s: %s", r->c->request_headers[i].name,
			    r->c->request_headers[i].value) == -1) {
				h = NULL;
				goto out;
			}
		} else if ((h = strdup("User-Agent: spiderpig-httpbb")) == NULL)
			goto out;
		if ((nh = curl_slist_append(r->hdrs, h)) == NULL)
			goto out;
		r->hdrs = nh;
		free(h);
		h = NULL;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	r->url = url;
	url = NULL;
	curl_easy_setopt(r->easy, CURLOPT_CONNECT_TO, r->connect_to);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, smoke_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, smoke_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	if (strcmp(r->c->method, "HEAD") == 0)
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->c->method, "GET") != 0)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, r->c->method);
	rc = 0;
out:
	free(url);
	free(connect);
	free(h);
	return rc;
}

static void
smoke_req_free(struct smoke_req *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	curl_slist_free_all(r->connect_to);
	free(r->url);
	free(r->body);
	while (r->nresp > 0) {
		r->nresp--;
		free(r->resp[r->nresp].name);
		free(r->resp[r->nresp].value);
	}
	memset(r, 0, sizeof(*r));
}

/* Judge a finished request and log its result; returns 1 for a pass. */
static int
smoke_result(struct smoke_req *r, CURLcode cc, struct logw_sink *log)
{
	struct httpbb_answer a;
	char		 why[512];
	long		 status = 0;
	int64_t		 ms = util_now_ms() - r->started;

	if (cc != CURLE_OK) {
		logw_say(log, "smoke: FAIL %s %s on %s (%s:%lu): %s",
		    r->c->method, r->url, r->target, r->file,
		    r->c->line, r->errbuf[0] ? r->errbuf :
		    curl_easy_strerror(cc));
		return 0;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	memset(&a, 0, sizeof(a));
	a.status = status;
	a.headers = r->resp;
	a.nheaders = r->nresp;
	a.body = r->body != NULL ? r->body : "";
	a.bodylen = r->bodylen;
	if (httpbb_check(r->c, &a, why, sizeof(why)) == -1) {
		logw_say(log, "smoke: FAIL %s %s on %s (%s:%lu): %s%s",
		    r->c->method, r->url, r->target, r->file,
		    r->c->line, why, r->truncated ? " (body cut at 1 MiB)" : "");
		return 0;
	}
	logw_say(log, "smoke: PASS %s %s on %s: %ld in %lld ms",
	    r->c->method, r->url, r->target, status,
	    (long long)ms);
	return 1;
}

/* Load every tests file; logs and returns -1 when one does not parse. */
static int
smoke_load(const struct smoke_conf *sc, struct httpbb_file **files,
    struct logw_sink *log, char *detail, size_t detailsz)
{
	char	 why[512], *buf;
	size_t	 i, len;

	for (i = 0; i < sc->ntests; i++) {
		if ((buf = smoke_read(sc->tests[i], &len, why,
		    sizeof(why))) != NULL) {
			files[i] = httpbb_parse(buf, len, why, sizeof(why));
			free(buf);
		}
		if (files[i] == NULL) {
			logw_say(log, "smoke: %s: %s", sc->tests[i], why);
			snprintf(detail, detailsz, "smoke tests %s: %s",
			    sc->tests[i], why);
			return -1;
		}
		logw_say(log, "smoke: %s: %zu test case(s)", sc->tests[i],
		    files[i]->ncases);
	}
	return 0;
}

/* Start request number k (a case x target) on m; -1 on failure. */
static int
smoke_start(CURLM *m, struct smoke_req *r, const struct smoke_conf *sc,
    struct httpbb_file **files, size_t k)
{
	size_t	 f, idx = k / sc->ntargets;

	for (f = 0; idx >= files[f]->ncases; f++)
		idx -= files[f]->ncases;
	r->c = &files[f]->cases[idx];
	r->file = sc->tests[f];
	r->target = sc->targets[k % sc->ntargets];
	r->started = util_now_ms();
	if (smoke_setup(r, sc->request_timeout) == -1 ||
	    curl_multi_add_handle(m, r->easy) != CURLM_OK)
		return -1;
	return 0;
}

/*
 * Run all requests, at most sc->parallel at once, calling keepalive in
 * between. Sets *passed and *failed; returns RUN_DONE, or RUN_LOST /
 * RUN_KILLED when keepalive said stop, or when timeout_s passed (then
 * *timedout is set and the rest count as failed).
 */
static enum run_status
smoke_multi(const struct smoke_conf *sc, struct httpbb_file **files,
    size_t total, int timeout_s, struct builtin_ctx *ctx, size_t *passed,
    size_t *failed)
{
	CURLM		*m;
	CURLMsg		*msg;
	struct smoke_req *reqs, *r;
	size_t		 next = 0, done = 0, i, slots = (size_t)sc->parallel;
	int64_t		 deadline = util_now_ms() + (int64_t)timeout_s * 1000;
	int64_t		 alive = util_now_ms() + ctx->keepalive_ms;
	int		 running, left;
	enum run_status	 rs = RUN_DONE;

	if ((m = curl_multi_init()) == NULL ||
	    (reqs = calloc(slots, sizeof(*reqs))) == NULL) {
		curl_multi_cleanup(m);
		return RUN_DONE;
	}
	while (done < total) {
		for (i = 0; i < slots && next < total; i++) {
			if (reqs[i].easy != NULL)
				continue;
			if (smoke_start(m, &reqs[i], sc, files, next++) == -1) {
				logw_say(ctx->log, "smoke: cannot start a "
				    "request (out of memory?)");
				smoke_req_free(&reqs[i]);
				(*failed)++;
				done++;
			}
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&r);
			if (smoke_result(r, msg->data.result, ctx->log))
				(*passed)++;
			else
				(*failed)++;
			done++;
			curl_multi_remove_handle(m, r->easy);
			smoke_req_free(r);
		}
		if (done == total)
			break;
		if (util_now_ms() >= alive) {
			if (ctx->keepalive(ctx->arg) == -1) {
				rs = ctx->sig->terms >= 2 ? RUN_KILLED : RUN_LOST;
				break;
			}
			alive = util_now_ms() + ctx->keepalive_ms;
		}
		if (util_now_ms() >= deadline) {
			logw_say(ctx->log, "smoke: timed out after %d s with "
			    "%zu request(s) unanswered", timeout_s, total - done);
			*failed += total - done;
			break;
		}
		curl_multi_poll(m, NULL, 0, 200, NULL);
		notify_watchdog();
	}
	for (i = 0; i < slots; i++)
		if (reqs[i].easy != NULL) {
			curl_multi_remove_handle(m, reqs[i].easy);
			smoke_req_free(&reqs[i]);
		}
	free(reqs);
	curl_multi_cleanup(m);
	return rs;
}

enum run_status
smoke_run(char *const *opts, size_t nopts, int timeout_s,
    struct builtin_ctx *ctx, int *ok, char *detail, size_t detailsz)
{
	struct smoke_conf sc;
	struct httpbb_file *files[SMOKE_MAX_FILES] = { NULL };
	size_t		 i, total = 0, passed = 0, failed = 0;
	enum run_status	 rs = RUN_DONE;
	char		 why[256];

	*ok = 0;
	if (smoke_conf_parse(opts, nopts, &sc, why, sizeof(why)) == -1) {
		snprintf(detail, detailsz, "smoke tests: %s", why);
		logw_say(ctx->log, "%s", detail);
		goto out;
	}
	if (smoke_load(&sc, files, ctx->log, detail, detailsz) == -1)
		goto out;
	for (i = 0; i < sc.ntests; i++)
		total += files[i]->ncases * sc.ntargets;
	logw_say(ctx->log, "smoke: %zu request(s) to %zu target(s), %ld at "
	    "a time", total, sc.ntargets, sc.parallel);
	rs = smoke_multi(&sc, files, total, timeout_s, ctx, &passed, &failed);
	if (rs != RUN_DONE)
		goto out;
	*ok = failed == 0 && passed == total;
	snprintf(detail, detailsz, "smoke tests: %zu of %zu passed%s", passed,
	    total, *ok ? "" : ", the rest FAILED (see the log)");
	logw_say(ctx->log, "%s", detail);
out:
	for (i = 0; i < SMOKE_MAX_FILES; i++)
		httpbb_free(files[i]);
	smoke_conf_free(&sc);
	return rs;
}
