/* cfg.c: load spiderpig.ini with libinih; stage argv arrays are JSON. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <ini.h>

#include "cfg.h"
#include "totp.h"
#include "util.h"
#include "vocab.h"

struct cfg_parse {
	struct cfg	*cfg;
	char		*err;
	size_t		 errsz;
	int		 failed;
};

const char *
cfg_stage_name(enum cfg_stage s)
{
	if ((int)s < 0 || s >= STAGE__COUNT)
		return NULL;
	return vocab_stages[s].name;
}

int
cfg_stage_from_name(const char *name)
{
	return vocab_stage_from_name(name);
}

static const char *const cfg_kinds[] = {
	[CFG_KIND_COMMAND] = "command",
	[CFG_KIND_GERRIT_MERGE] = "gerrit-merge",
	[CFG_KIND_GIT_CHERRY_PICK] = "git-cherry-pick",
	[CFG_KIND_HTTPBB] = "httpbb",
	[CFG_KIND_CANARY] = "canary",
};

const char *
cfg_kind_name(enum cfg_stage_kind k)
{
	if ((int)k < 0 || (size_t)k >= sizeof(cfg_kinds) / sizeof(cfg_kinds[0]))
		return NULL;
	return cfg_kinds[k];
}

int
cfg_kind_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(cfg_kinds) / sizeof(cfg_kinds[0]); i++)
		if (strcmp(cfg_kinds[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * A key of a [stage NAME] section other than command, rollback and timeout:
 * kind, which must come first, and then the keys of the httpbb and canary
 * kinds, kept as "key=value" for the worker to check (worker/builtin.c).
 * 1 to go on, 0 for an error, -1 for a key no kind takes.
 */
static int
cfg_stage_kind_key(struct cfg_command *cmd, const char *name,
    const char *value)
{
	int	k;

	if (strcmp(name, "kind") == 0) {
		if ((k = cfg_kind_from_name(value)) == -1 || cmd->nopts > 0)
			return 0;
		cmd->kind = (enum cfg_stage_kind)k;
		return 1;
	}
	if ((cmd->kind != CFG_KIND_HTTPBB && cmd->kind != CFG_KIND_CANARY) ||
	    cmd->nopts == CFG_MAX_OPTS ||
	    strchr(name, '=') != NULL)
		return -1;
	if (asprintf(&cmd->opts[cmd->nopts], "%s=%s", name, value) == -1)
		return 0;
	cmd->nopts++;
	return 1;
}

void
cfg_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

char **
cfg_argv_parse(const char *json)
{
	cJSON		*arr, *el;
	char		**argv = NULL;
	int		 n, i = 0;

	if ((arr = cJSON_Parse(json)) == NULL)
		return NULL;
	n = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || n < 1 || n >= CFG_MAX_ARGV)
		goto fail;
	if ((argv = calloc((size_t)n + 1, sizeof(*argv))) == NULL)
		goto fail;
	cJSON_ArrayForEach(el, arr) {
		if (!cJSON_IsString(el) || el->valuestring[0] == '\0')
			goto fail;
		if ((argv[i++] = strdup(el->valuestring)) == NULL)
			goto fail;
	}
	/* The program must be an absolute path: no PATH search. */
	if (argv[0][0] != '/')
		goto fail;
	cJSON_Delete(arr);
	return argv;
fail:
	cJSON_Delete(arr);
	cfg_argv_free(argv);
	return NULL;
}

static int
cfg_int(const char *v, int min, int max, int *out)
{
	long long	 n;
	const char	*errstr;

	if (util_strtonum(v, min, max, &n, &errstr) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

/* A single-valued key: a second value (the key again, or an indented
 * line, which libinih hands to the key above) is refused, never kept in
 * place of the first. */
static int
cfg_str(char **dst, const char *v)
{
	if (*dst != NULL)
		return -1;
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

/* Split a comma-separated group list into v (trimmed, non-empty items). */
static int
cfg_groups(const char *value, char **v, size_t *n)
{
	const char	*p = value, *e;
	size_t		 len;

	while (*n > 0)
		free(v[--*n]);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*n == CFG_MAX_GROUPS || (v[*n] = strndup(p, len)) == NULL)
			return -1;
		(*n)++;
		p = e;
	}
	return 0;
}

static int
cfg_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* The [oidc] keys; 1 to go on, 0 for an error, -1 for an unknown key. */
static int
cfg_oidc(struct cfg *c, const char *name, const char *value)
{
	if (strcmp(name, "issuer") == 0)
		return cfg_str(&c->oidc_issuer, value) == 0;
	if (strcmp(name, "client_id") == 0)
		return cfg_str(&c->oidc_client_id, value) == 0;
	if (strcmp(name, "client_secret") == 0)
		return cfg_str(&c->oidc_client_secret, value) == 0;
	if (strcmp(name, "redirect_uri") == 0)
		return cfg_str(&c->oidc_redirect_uri, value) == 0;
	if (strcmp(name, "username_claim") == 0)
		return cfg_str(&c->oidc_username_claim, value) == 0;
	if (strcmp(name, "groups_claim") == 0)
		return cfg_str(&c->oidc_groups_claim, value) == 0;
	if (strcmp(name, "deployer_groups") == 0)
		return cfg_groups(value, c->oidc_deployer_groups,
		    &c->oidc_ndeployer_groups) == 0;
	if (strcmp(name, "admin_groups") == 0)
		return cfg_groups(value, c->oidc_admin_groups,
		    &c->oidc_nadmin_groups) == 0;
	if (strcmp(name, "allow_http_loopback") == 0)
		return cfg_bool(value, &c->oidc_allow_http_loopback) == 0;
	return -1;
}

/*
 * The origin (scheme://host[:port], lower case, default port left out) of
 * an absolute http(s) URL, as browsers send it in Origin; NULL when url is
 * not one.
 */
static char *
cfg_origin(const char *url)
{
	const char	*h, *e;
	char		*o;
	size_t		 i, len;
	int		 https;

	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		h = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		h = url + 7;
	} else
		return NULL;
	e = h + strcspn(h, "/?#");
	if (e == h || memchr(h, '@', (size_t)(e - h)) != NULL)
		return NULL;
	len = (size_t)(e - h);
	if (https && len > 4 && memcmp(e - 4, ":443", 4) == 0)
		len -= 4;
	else if (!https && len > 3 && memcmp(e - 3, ":80", 3) == 0)
		len -= 3;
	if (asprintf(&o, "%s://%.*s", https ? "https" : "http", (int)len,
	    h) == -1)
		return NULL;
	for (i = 0; o[i] != '\0'; i++)
		o[i] = (char)tolower((unsigned char)o[i]);
	return o;
}

/* The [stream] keys; 1 to go on, 0 for an error, -1 for an unknown key. */
static int
cfg_stream(struct cfg *c, const char *name, const char *value)
{
	if (strcmp(name, "socket") == 0)
		return cfg_str(&c->stream_socket, value) == 0;
	if (strcmp(name, "origin") == 0) {
		free(c->stream_origin);
		return (c->stream_origin = cfg_origin(value)) != NULL;
	}
	if (strcmp(name, "buffer_cap") == 0)
		return cfg_int(value, 4096, 64 << 20,
		    &c->stream_buffer_cap) == 0;
	if (strcmp(name, "ping_interval") == 0)
		return cfg_int(value, 1, 3600, &c->stream_ping_interval) == 0;
	return -1;
}

static const char *const cfg_hook_events[] = {
	[CFG_HOOK_STARTED] = "started",
	[CFG_HOOK_PROMPT] = "prompt",
	[CFG_HOOK_ROLLED_BACK] = "rolled_back",
	[CFG_HOOK_FINISHED] = "finished",
	[CFG_HOOK_FREEZE] = "freeze",
};

const char *
cfg_hook_event_name(enum cfg_hook_event e)
{
	if ((int)e < 0 || e >= CFG_HOOK__COUNT)
		return NULL;
	return cfg_hook_events[e];
}

int
cfg_hook_event_from_name(const char *name)
{
	int	i;

	for (i = 0; i < CFG_HOOK__COUNT; i++)
		if (strcmp(cfg_hook_events[i], name) == 0)
			return i;
	return -1;
}

/* A comma-separated list of webhook event names into bits; -1 on an
 * unknown name or an empty list. */
static int
cfg_hook_event_list(const char *value, unsigned *out)
{
	char	*list[CFG_MAX_GROUPS] = { NULL };
	size_t	 n = 0, i;
	int	 e, rc = -1;

	if (cfg_groups(value, list, &n) != 0 || n == 0)
		goto out;
	*out = 0;
	for (i = 0; i < n; i++) {
		if ((e = cfg_hook_event_from_name(list[i])) == -1)
			goto out;
		*out |= 1u << e;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(list[i]);
	return rc;
}

/* A receiver's name: 1 to 40 of [a-z0-9_-] (sql/018's hook_receivers). */
static int
cfg_hook_name_ok(const char *v)
{
	size_t	len = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return len >= 1 && len <= 40 && v[len] == '\0';
}

/* The [hooks] keys; 1 to go on, 0 for an error, -1 for an unknown key. */
static int
cfg_hooks(struct cfg *c, const char *name, const char *value)
{
	if (strcmp(name, "name") == 0)
		return cfg_hook_name_ok(value) &&
		    cfg_str(&c->hooks_name, value) == 0;
	if (strcmp(name, "url") == 0)
		return cfg_str(&c->hooks_url, value) == 0;
	if (strcmp(name, "secret") == 0)
		return strlen(value) >= 16 && strlen(value) <= 512 &&
		    cfg_str(&c->hooks_secret, value) == 0;
	if (strcmp(name, "secret_file") == 0)
		return value[0] == '/' &&
		    cfg_str(&c->hooks_secret_file, value) == 0;
	if (strcmp(name, "events") == 0)
		return cfg_hook_event_list(value, &c->hooks_events) == 0;
	if (strcmp(name, "timeout") == 0)
		return cfg_int(value, 1, 300, &c->hooks_timeout) == 0;
	if (strcmp(name, "max_attempts") == 0)
		return cfg_int(value, 1, 1000, &c->hooks_max_attempts) == 0;
	if (strcmp(name, "backoff_ms") == 0)
		return cfg_int(value, 10, 3600000, &c->hooks_backoff_ms) == 0;
	if (strcmp(name, "backoff_max_ms") == 0)
		return cfg_int(value, 10, 86400000,
		    &c->hooks_backoff_max_ms) == 0;
	if (strcmp(name, "link_base") == 0) {
		size_t	len;

		if (cfg_str(&c->hooks_link_base, value) == -1)
			return 0;
		len = strlen(c->hooks_link_base);
		while (len > 0 && c->hooks_link_base[len - 1] == '/')
			c->hooks_link_base[--len] = '\0';
		return 1;
	}
	if (strcmp(name, "allow_http_loopback") == 0)
		return cfg_bool(value, &c->hooks_allow_http_loopback) == 0;
	return -1;
}

/* After parsing: a [hooks] url is http(s) (plain http only to loopback
 * and when allowed) and has one secret; its receiver's name defaults to
 * "default". Without a url the section is
 * inert (the sender refuses to start). */
static int
cfg_check_hooks(struct cfg *c, char *err, size_t errsz)
{
	if (c->hooks_url == NULL)
		return 0;
	if (c->hooks_name == NULL &&
	    cfg_str(&c->hooks_name, "default") == -1) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (!util_url_ok(c->hooks_url, c->hooks_allow_http_loopback ?
	    UTIL_URL_LOOPBACK_HTTP : 0)) {
		snprintf(err, errsz, "[hooks] url must be https:// (http only "
		    "to loopback with allow_http_loopback)");
		return -1;
	}
	if ((c->hooks_secret == NULL) == (c->hooks_secret_file == NULL)) {
		snprintf(err, errsz, "[hooks] needs one of secret and "
		    "secret_file");
		return -1;
	}
	if (c->hooks_backoff_max_ms < c->hooks_backoff_ms) {
		snprintf(err, errsz, "[hooks] backoff_max_ms is below "
		    "backoff_ms");
		return -1;
	}
	return 0;
}

/* After parsing: [oidc] complete and consistent, with a [totp] key. */
static int
cfg_check_oidc(struct cfg *c, char *err, size_t errsz)
{
	int	any = c->oidc_issuer != NULL || c->oidc_client_id != NULL ||
		    c->oidc_client_secret != NULL ||
		    c->oidc_redirect_uri != NULL;

	if (!any)
		return 0;
	if (c->oidc_issuer == NULL || c->oidc_client_id == NULL ||
	    c->oidc_client_secret == NULL || c->oidc_redirect_uri == NULL) {
		snprintf(err, errsz, "[oidc] needs issuer, client_id, "
		    "client_secret and redirect_uri");
		return -1;
	}
	if ((c->oidc_origin = cfg_origin(c->oidc_redirect_uri)) == NULL ||
	    (strncmp(c->oidc_origin, "https://", 8) != 0 &&
	    !c->oidc_allow_http_loopback)) {
		snprintf(err, errsz, "[oidc] redirect_uri must be an https:// "
		    "URL");
		return -1;
	}
	if (!c->totp_key_set) {
		snprintf(err, errsz, "[oidc] needs a [totp] key");
		return -1;
	}
	if (c->oidc_ndeployer_groups == 0 && c->oidc_nadmin_groups == 0) {
		snprintf(err, errsz, "[oidc] needs deployer_groups or "
		    "admin_groups");
		return -1;
	}
	if (c->oidc_username_claim == NULL &&
	    (c->oidc_username_claim = strdup("preferred_username")) == NULL)
		return -1;
	if (c->oidc_groups_claim == NULL &&
	    (c->oidc_groups_claim = strdup("groups")) == NULL)
		return -1;
	if (c->totp_issuer == NULL &&
	    (c->totp_issuer = strdup("spiderpig")) == NULL)
		return -1;
	return 0;
}

/*
 * The [gerrit] keys; 1 to go on, 0 for an error, -1 for an unknown key.
 * No secret lives here: password_file names the file with the HTTP
 * password, read only when approving.
 */
static int
cfg_gerrit(struct cfg *c, const char *name, const char *value)
{
	size_t	len;

	if (strcmp(name, "url") == 0) {
		if (cfg_str(&c->gerrit_url, value) == -1)
			return 0;
		len = strlen(c->gerrit_url);
		while (len > 0 && c->gerrit_url[len - 1] == '/')
			c->gerrit_url[--len] = '\0';
		return 1;
	}
	if (strcmp(name, "user") == 0)
		return cfg_str(&c->gerrit_user, value) == 0;
	if (strcmp(name, "password_file") == 0)
		return value[0] == '/' &&
		    cfg_str(&c->gerrit_password_file, value) == 0;
	if (strcmp(name, "poll_interval") == 0)
		return cfg_int(value, 1, 600, &c->gerrit_poll_interval) == 0;
	if (strcmp(name, "allow_http_loopback") == 0)
		return cfg_bool(value, &c->gerrit_allow_http_loopback) == 0;
	return -1;
}

/* The [git] keys; as cfg_gerrit. */
static int
cfg_git(struct cfg *c, const char *name, const char *value)
{
	if (strcmp(name, "program") == 0)
		return value[0] == '/' && cfg_str(&c->git_program, value) == 0;
	if (strcmp(name, "dir") == 0)
		return value[0] == '/' && cfg_str(&c->git_dir, value) == 0;
	if (strcmp(name, "remote") == 0)
		return value[0] != '-' && cfg_str(&c->git_remote, value) == 0;
	if (strcmp(name, "branch") == 0)
		return value[0] != '-' && strspn(value, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") == strlen(value) &&
		    cfg_str(&c->git_branch, value) == 0;
	return -1;
}

/*
 * After parsing: [gerrit] url is http(s) (plain http only to loopback and
 * when allowed), its host is kept for the enqueue check; a built-in stage
 * kind has the section it needs.
 */
static int
cfg_check_sources(struct cfg *c, char *err, size_t errsz)
{
	char	*o;
	int	 i, k;

	if (c->gerrit_url != NULL) {
		if ((o = cfg_origin(c->gerrit_url)) == NULL) {
			snprintf(err, errsz, "[gerrit] url must be an http(s) URL");
			return -1;
		}
		if (strncmp(o, "http://", 7) == 0 &&
		    (!c->gerrit_allow_http_loopback ||
		    (strncmp(o + 7, "127.0.0.1", 9) != 0 &&
		    strncmp(o + 7, "localhost", 9) != 0) ||
		    (o[16] != '\0' && o[16] != ':'))) {
			free(o);
			snprintf(err, errsz, "[gerrit] url must be https:// (http "
			    "only to 127.0.0.1 with allow_http_loopback)");
			return -1;
		}
		c->gerrit_host = strdup(strchr(o, '/') + 2);
		free(o);
		if (c->gerrit_host == NULL)
			return -1;
		if ((c->gerrit_user == NULL) != (c->gerrit_password_file == NULL)) {
			snprintf(err, errsz, "[gerrit] user and password_file go "
			    "together");
			return -1;
		}
	}
	if (c->git_program == NULL &&
	    (c->git_program = strdup("/usr/bin/git")) == NULL)
		return -1;
	for (i = 0; i < STAGE__COUNT; i++) {
		k = c->stages[i].kind;
		if (k == CFG_KIND_COMMAND)
			continue;
		/* httpbb and canary: their keys are the worker's to check. */
		if (k == CFG_KIND_HTTPBB || k == CFG_KIND_CANARY)
			continue;
		if (i != STAGE_MERGE) {
			snprintf(err, errsz, "[stage %s] kind %s: the merge kinds "
			    "are for the merge stage", cfg_stage_name(i),
			    cfg_kind_name(k));
			return -1;
		}
		if (k == CFG_KIND_GERRIT_MERGE && c->gerrit_url == NULL) {
			snprintf(err, errsz, "[stage merge] kind gerrit-merge "
			    "needs [gerrit] url");
			return -1;
		}
		if (k == CFG_KIND_GERRIT_MERGE && c->gerrit_user == NULL) {
			snprintf(err, errsz, "[stage merge] kind gerrit-merge "
			    "needs [gerrit] user and password_file to approve");
			return -1;
		}
		if (k == CFG_KIND_GIT_CHERRY_PICK && (c->git_dir == NULL ||
		    c->git_remote == NULL || c->git_branch == NULL)) {
			snprintf(err, errsz, "[stage merge] kind git-cherry-pick "
			    "needs [git] dir, remote and branch");
			return -1;
		}
	}
	return 0;
}

/* libinih callback: 1 to go on, 0 to report an error on this line. */
static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse	*p = user;
	struct cfg		*c = p->cfg;
	int			 st;

	if (strcmp(section, "database") == 0) {
		if (strcmp(name, "web") == 0)
			return cfg_str(&c->db_web, value) == 0;
		if (strcmp(name, "worker") == 0)
			return cfg_str(&c->db_worker, value) == 0;
		if (strcmp(name, "stream") == 0)
			return cfg_str(&c->db_stream, value) == 0;
		if (strcmp(name, "hooks") == 0)
			return cfg_str(&c->db_hooks, value) == 0;
	} else if (strcmp(section, "fcgi") == 0) {
		if (strcmp(name, "socket") == 0)
			return cfg_str(&c->fcgi_socket, value) == 0;
		if (strcmp(name, "threads") == 0)
			return cfg_int(value, 1, 1024, &c->fcgi_threads) == 0;
		if (strcmp(name, "auth_socket") == 0)
			return cfg_str(&c->fcgi_auth_socket, value) == 0;
		if (strcmp(name, "auth_threads") == 0)
			return cfg_int(value, 1, 1024,
			    &c->fcgi_auth_threads) == 0;
		if (strcmp(name, "kept_connections") == 0)
			return cfg_int(value, 0, 65536,
			    &c->fcgi_kept_connections) == 0;
		/* At least 32 characters, so guessing it is hopeless. */
		if (strcmp(name, "metrics_token") == 0)
			return strlen(value) >= 32 && strlen(value) <= 256 &&
			    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789-_.~") ==
			    strlen(value) &&
			    cfg_str(&c->fcgi_metrics_token, value) == 0;
	} else if (strcmp(section, "worker") == 0) {
		if (strcmp(name, "poll_interval") == 0)
			return cfg_int(value, 1, 3600, &c->poll_interval) == 0;
		if (strcmp(name, "heartbeat_interval") == 0)
			return cfg_int(value, 1, 3600, &c->heartbeat_interval) == 0;
		if (strcmp(name, "lease") == 0)
			return cfg_int(value, 2, 86400, &c->lease) == 0;
		if (strcmp(name, "log_batch_lines") == 0)
			return cfg_int(value, 1, 1000000, &c->log_batch_lines) == 0;
		if (strcmp(name, "log_flush_ms") == 0)
			return cfg_int(value, 1, 60000, &c->log_flush_ms) == 0;
		if (strcmp(name, "mask") == 0) {
			if (c->nmasks == CFG_MAX_MASKS)
				return 0;
			return (c->masks[c->nmasks++] = strdup(value)) != NULL;
		}
		if (strcmp(name, "mode") == 0) {
			if (strcmp(value, "builtin") == 0)
				c->mode = CFG_MODE_BUILTIN;
			else if (strcmp(value, "scap") == 0)
				c->mode = CFG_MODE_SCAP;
			else
				return 0;
			return 1;
		}
		if (strcmp(name, "stage_user") == 0) {
			/* A user name as useradd takes it; empty: unset. */
			if (value[0] == '\0') {
				free(c->stage_user);
				c->stage_user = NULL;
				return 1;
			}
			if (strspn(value, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789_-") != strlen(value) ||
			    strlen(value) > 32 || value[0] == '-')
				return 0;
			return cfg_str(&c->stage_user, value) == 0;
		}
		if (strcmp(name, "env") == 0) {
			if (c->nenv == CFG_MAX_ENV || strchr(value, '=') == NULL ||
			    value[0] == '=')
				return 0;
			return (c->env[c->nenv++] = strdup(value)) != NULL;
		}
	} else if (strcmp(section, "stream") == 0) {
		if ((st = cfg_stream(c, name, value)) != -1)
			return st;
	} else if (strcmp(section, "hooks") == 0) {
		if ((st = cfg_hooks(c, name, value)) != -1)
			return st;
	} else if (strcmp(section, "oidc") == 0) {
		if ((st = cfg_oidc(c, name, value)) != -1)
			return st;
	} else if (strcmp(section, "totp") == 0) {
		if (strcmp(name, "key") == 0) {
			c->totp_key_set = totp_key_parse(value, c->totp_key) ==
			    TOTP_OK;
			if (!c->totp_key_set)
				snprintf(p->err, p->errsz, "[totp] key must be "
				    "64 hex digits");
			p->failed = !c->totp_key_set;
			return c->totp_key_set;
		}
		if (strcmp(name, "issuer") == 0)
			return cfg_str(&c->totp_issuer, value) == 0;
	} else if (strcmp(section, "scap") == 0) {
		if (strcmp(name, "command") == 0) {
			cfg_argv_free(c->scap_argv);
			return (c->scap_argv = cfg_argv_parse(value)) != NULL;
		}
		if (strcmp(name, "timeout") == 0)
			return cfg_int(value, 1, 7 * 86400, &c->scap_timeout) == 0;
		if (strcmp(name, "grace") == 0)
			return cfg_int(value, 1, 3600, &c->scap_grace) == 0;
	} else if (strcmp(section, "gerrit") == 0) {
		if ((st = cfg_gerrit(c, name, value)) != -1)
			return st;
	} else if (strcmp(section, "git") == 0) {
		if ((st = cfg_git(c, name, value)) != -1)
			return st;
	} else if (strncmp(section, "stage ", 6) == 0 &&
	    (st = cfg_stage_from_name(section + 6)) != -1) {
		struct cfg_command *cmd = &c->stages[st];

		if (strcmp(name, "command") == 0) {
			cfg_argv_free(cmd->argv);
			return (cmd->argv = cfg_argv_parse(value)) != NULL;
		}
		if (strcmp(name, "rollback") == 0) {
			cfg_argv_free(cmd->rollback);
			return (cmd->rollback = cfg_argv_parse(value)) != NULL;
		}
		if (strcmp(name, "timeout") == 0)
			return cfg_int(value, 1, 86400, &cmd->timeout) == 0;
		if ((st = cfg_stage_kind_key(cmd, name, value)) != -1)
			return st;
	}
	snprintf(p->err, p->errsz, "unknown key [%s] %s", section, name);
	p->failed = 1;
	return 0;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errsz)
{
	struct cfg_parse	 p;
	struct cfg		*c;
	char			 why_oidc[256];
	int			 line, i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->fcgi_threads = 32;
	c->fcgi_auth_threads = 4;
	c->poll_interval = 1;
	c->heartbeat_interval = 2;
	c->lease = 10;
	c->log_batch_lines = 5000;
	c->log_flush_ms = 100;
	c->gerrit_poll_interval = 5;
	c->stream_buffer_cap = 256 * 1024;
	c->stream_ping_interval = 30;
	for (i = 0; i < STAGE__COUNT; i++)
		c->stages[i].timeout = 600;
	c->scap_timeout = 6 * 3600;
	c->scap_grace = 5;
	c->hooks_events = CFG_HOOK_ALL;
	c->hooks_timeout = 10;
	c->hooks_max_attempts = 10;
	c->hooks_backoff_ms = 1000;
	c->hooks_backoff_max_ms = 300000;

	memset(&p, 0, sizeof(p));
	p.cfg = c;
	p.err = err;
	p.errsz = errsz;
	line = ini_parse(path, cfg_handler, &p);
	if (line == -1) {
		snprintf(err, errsz, "%s: cannot open", path);
		goto fail;
	}
	if (line != 0) {
		char why[256];

		if (p.failed)
			snprintf(why, sizeof(why), "%s", err);
		else
			snprintf(why, sizeof(why), "invalid value or syntax");
		snprintf(err, errsz, "%s:%d: %s", path, line, why);
		goto fail;
	}
	if (c->heartbeat_interval * 2 > c->lease) {
		snprintf(err, errsz, "%s: [worker] lease must be at least twice "
		    "heartbeat_interval", path);
		goto fail;
	}
	if (c->mode == CFG_MODE_SCAP && c->scap_argv == NULL) {
		snprintf(err, errsz, "%s: [worker] mode = scap needs [scap] "
		    "command", path);
		goto fail;
	}
	/* The lease is not renewed between SIGINT and SIGKILL. */
	if (c->mode == CFG_MODE_SCAP && c->scap_grace >= c->lease) {
		snprintf(err, errsz, "%s: [scap] grace must be shorter than "
		    "[worker] lease", path);
		goto fail;
	}
	if (c->fcgi_kept_connections > 0 &&
	    c->fcgi_threads <= c->fcgi_kept_connections) {
		snprintf(err, errsz, "%s: [fcgi] threads (%d) must be more than "
		    "kept_connections (%d): each connection nginx keeps holds "
		    "a thread", path, c->fcgi_threads,
		    c->fcgi_kept_connections);
		goto fail;
	}
	if (cfg_check_oidc(c, why_oidc, sizeof(why_oidc)) != 0) {
		snprintf(err, errsz, "%s: %s", path, why_oidc);
		goto fail;
	}
	if (cfg_check_hooks(c, why_oidc, sizeof(why_oidc)) != 0) {
		snprintf(err, errsz, "%s: %s", path, why_oidc);
		goto fail;
	}
	if (cfg_check_sources(c, why_oidc, sizeof(why_oidc)) != 0) {
		snprintf(err, errsz, "%s: %s", path, why_oidc);
		goto fail;
	}
	return c;
fail:
	cfg_free(c);
	return NULL;
}

void
cfg_free(struct cfg *c)
{
	size_t	i, k;

	if (c == NULL)
		return;
	free(c->db_web);
	free(c->db_worker);
	free(c->db_stream);
	free(c->db_hooks);
	free(c->hooks_name);
	free(c->hooks_url);
	if (c->hooks_secret != NULL)
		explicit_bzero(c->hooks_secret, strlen(c->hooks_secret));
	free(c->hooks_secret);
	free(c->hooks_secret_file);
	free(c->hooks_link_base);
	free(c->stream_socket);
	free(c->stream_origin);
	free(c->fcgi_socket);
	free(c->fcgi_auth_socket);
	free(c->fcgi_metrics_token);
	free(c->stage_user);
	for (i = 0; i < c->nmasks; i++)
		free(c->masks[i]);
	for (i = 0; i < c->nenv; i++)
		free(c->env[i]);
	for (i = 0; i < STAGE__COUNT; i++) {
		cfg_argv_free(c->stages[i].argv);
		cfg_argv_free(c->stages[i].rollback);
		for (k = 0; k < c->stages[i].nopts; k++)
			free(c->stages[i].opts[k]);
	}
	cfg_argv_free(c->scap_argv);
	free(c->oidc_issuer);
	free(c->oidc_client_id);
	free(c->oidc_client_secret);
	free(c->oidc_redirect_uri);
	free(c->oidc_origin);
	free(c->oidc_username_claim);
	free(c->oidc_groups_claim);
	for (i = 0; i < c->oidc_ndeployer_groups; i++)
		free(c->oidc_deployer_groups[i]);
	for (i = 0; i < c->oidc_nadmin_groups; i++)
		free(c->oidc_admin_groups[i]);
	free(c->totp_issuer);
	explicit_bzero(c->totp_key, sizeof(c->totp_key));
	free(c->gerrit_url);
	free(c->gerrit_host);
	free(c->gerrit_user);
	free(c->gerrit_password_file);
	free(c->git_program);
	free(c->git_dir);
	free(c->git_remote);
	free(c->git_branch);
	free(c);
}
