/* cfg.c: load spiderpig.ini with libinih; stage argv arrays are JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <ini.h>

#include "cfg.h"
#include "util.h"

static const char *stage_names[STAGE__COUNT] = {
	"merge", "sync_test", "smoke_test", "sync_canary", "canary_check",
	"sync_production",
};

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
	return stage_names[s];
}

int
cfg_stage_from_name(const char *name)
{
	int i;

	for (i = 0; i < STAGE__COUNT; i++)
		if (strcmp(stage_names[i], name) == 0)
			return i;
	return -1;
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

static int
cfg_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? -1 : 0;
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
	} else if (strcmp(section, "fcgi") == 0) {
		if (strcmp(name, "socket") == 0)
			return cfg_str(&c->fcgi_socket, value) == 0;
		if (strcmp(name, "threads") == 0)
			return cfg_int(value, 1, 1024, &c->fcgi_threads) == 0;
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
		if (strcmp(name, "env") == 0) {
			if (c->nenv == CFG_MAX_ENV || strchr(value, '=') == NULL ||
			    value[0] == '=')
				return 0;
			return (c->env[c->nenv++] = strdup(value)) != NULL;
		}
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
	int			 line, i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->fcgi_threads = 32;
	c->poll_interval = 1;
	c->heartbeat_interval = 2;
	c->lease = 10;
	c->log_batch_lines = 5000;
	c->log_flush_ms = 100;
	for (i = 0; i < STAGE__COUNT; i++)
		c->stages[i].timeout = 600;

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
	return c;
fail:
	cfg_free(c);
	return NULL;
}

void
cfg_free(struct cfg *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->db_web);
	free(c->db_worker);
	free(c->fcgi_socket);
	for (i = 0; i < c->nmasks; i++)
		free(c->masks[i]);
	for (i = 0; i < c->nenv; i++)
		free(c->env[i]);
	for (i = 0; i < STAGE__COUNT; i++) {
		cfg_argv_free(c->stages[i].argv);
		cfg_argv_free(c->stages[i].rollback);
	}
	free(c);
}
