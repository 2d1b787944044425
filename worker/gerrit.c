/* gerrit.c: the few Gerrit REST calls the built-in merge stage makes:
 * read a change, ask whether a revision is mergeable, approve it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gerrit.h"
#include "httpc.h"

#define GERRIT_PASSWORD_MAX	512

int
gerrit_init(void)
{
	return httpc_init();
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
 * or POST of the JSON body post, through lib/httpc. Authenticated requests
 * go to the /a/ prefix with HTTP basic auth. On success returns the HTTP
 * status and the answer in *body (free()); -1 with err on a transport
 * error.
 */
static int
gerrit_http(const struct cfg *cfg, const char *path, const char *post,
    char **body, size_t *len, char *err, size_t errsz)
{
	struct httpc_response	 r;
	char			 why[256], *url = NULL;
	char			 pw[GERRIT_PASSWORD_MAX];
	int			 auth = cfg->gerrit_user != NULL, status = -1;
	long			 timeout;

	*body = NULL;
	*len = 0;
	pw[0] = '\0';
	memset(&r, 0, sizeof(r));
	if (asprintf(&url, "%s%s%s", cfg->gerrit_url, auth ? "/a" : "",
	    path) == -1) {
		url = NULL;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if (auth && gerrit_password(cfg->gerrit_password_file, pw, sizeof(pw),
	    err, errsz) == -1)
		goto out;
	/* Half the lease at most: a hung Gerrit must not cost the lease. */
	timeout = cfg->lease / 2 < GERRIT_TIMEOUT_S ? cfg->lease / 2 :
	    GERRIT_TIMEOUT_S;
	if ((status = httpc_json(url, cfg->gerrit_allow_http_loopback ?
	    HTTPC_ALLOW_LOOPBACK_HTTP : 0, auth ? cfg->gerrit_user : NULL,
	    auth ? pw : NULL, post, GERRIT_BODY_MAX, timeout > 0 ? timeout : 1,
	    &r, why, sizeof(why))) == -1) {
		snprintf(err, errsz, "%s %s: %s", post ? "POST" : "GET", path,
		    why);
		goto out;
	}
	*body = r.body;
	*len = r.len;
	r.body = NULL;
out:
	explicit_bzero(pw, sizeof(pw));
	httpc_response_free(&r);
	free(url);
	return status;
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
