/* cfg.h: the spiderpig.ini configuration shared by every daemon. */
#ifndef SPIDERPIG_CFG_H
#define SPIDERPIG_CFG_H

#include <stddef.h>

#define CFG_MAX_MASKS   32
#define CFG_MAX_ENV     32
#define CFG_MAX_ARGV    64
#define CFG_MAX_GROUPS  16
#define CFG_KEY_LEN     32		/* [totp] key: AES-256 */

/* enum cfg_stage (STAGE_MERGE ... STAGE__COUNT) comes from lib/vocab.def. */
#include "vocab.h"

/* [worker] mode: the worker runs the stage table, or one scap command. */
enum cfg_mode {
	CFG_MODE_BUILTIN,
	CFG_MODE_SCAP,
};

#define CFG_MAX_OPTS    32

/* The webhook events (sql/018's hook_outbox.event), as [hooks] events
 * names them. */
enum cfg_hook_event {
	CFG_HOOK_STARTED,
	CFG_HOOK_PROMPT,
	CFG_HOOK_ROLLED_BACK,
	CFG_HOOK_FINISHED,
	CFG_HOOK_FREEZE,
	CFG_HOOK__COUNT,
};
#define CFG_HOOK_ALL	((1u << CFG_HOOK__COUNT) - 1)

/* What runs a stage: a command, or a built-in kind (`kind =` first in the
 * stage's section). The merge kinds take their settings from [gerrit] and
 * [git]; httpbb and canary from keys of their own stage's section. */
enum cfg_stage_kind {
	CFG_KIND_COMMAND = 0,
	CFG_KIND_GERRIT_MERGE,		/* "gerrit-merge": approve, poll */
	CFG_KIND_GIT_CHERRY_PICK,	/* "git-cherry-pick": [git] */
	CFG_KIND_HTTPBB,		/* "httpbb": worker/smoke.c */
	CFG_KIND_CANARY,		/* "canary": worker/canary.c */
};

/* One stage: argv arrays are NULL-terminated; rollback may be NULL. The
 * httpbb and canary kinds keep their keys as "key=value" in opts, checked
 * by the worker at startup (worker/builtin.c). */
struct cfg_command {
	char   **argv;
	char   **rollback;
	int      timeout;		/* seconds */
	enum cfg_stage_kind kind;
	char    *opts[CFG_MAX_OPTS];
	size_t   nopts;
};

struct cfg {
	char    *db_web;		/* conninfo for the FastCGI app */
	char    *db_worker;		/* conninfo for the worker */
	char    *db_stream;		/* conninfo for the stream daemon */
	char    *db_hooks;		/* conninfo for the webhook sender */

	char    *fcgi_socket;
	int      fcgi_threads;
	/* The /_auth subrequests' socket and threads (never kept alive);
	 * NULL: they share fcgi_socket. */
	char    *fcgi_auth_socket;
	int      fcgi_auth_threads;
	/* How many connections nginx may keep open to fcgi_socket (its
	 * worker_processes x keepalive); each holds a thread. 0: unknown. */
	int      fcgi_kept_connections;
	/* The Bearer token a Prometheus scraper may read /metrics with, and
	 * nothing else; NULL: admins only. */
	char    *fcgi_metrics_token;

	int      poll_interval;		/* seconds */
	int      heartbeat_interval;	/* seconds */
	int      lease;			/* seconds */
	int      log_batch_lines;
	int      log_flush_ms;
	char    *masks[CFG_MAX_MASKS];
	size_t   nmasks;
	char    *env[CFG_MAX_ENV];	/* "KEY=VALUE" */
	size_t   nenv;
	char    *stage_user;		/* run stage commands as; NULL: ours */

	struct cfg_command stages[STAGE__COUNT];

	/* [worker] mode and [scap]: one command for the whole deployment
	 * (the patches appended to scap_argv), speaking SPIDERPIG_IO. */
	enum cfg_mode mode;
	char   **scap_argv;
	int      scap_timeout;		/* seconds, the whole run */
	int      scap_grace;		/* seconds from SIGINT to SIGKILL */

	/* [stream]: the WebSocket daemon (stream/). */
	char    *stream_socket;		/* unix socket nginx proxies to */
	char    *stream_origin;		/* the one Origin allowed, normalised */
	int      stream_buffer_cap;	/* bytes waiting per client, then close */
	int      stream_ping_interval;	/* seconds idle before a PING */

	/* [hooks]: the webhook sender (hooks/); hooks_url NULL = none. The
	 * secret is inline or in hooks_secret_file, read by the sender. */
	char    *hooks_name;		/* the receiver's name; "default" */
	char    *hooks_url;
	char    *hooks_secret;
	char    *hooks_secret_file;
	unsigned hooks_events;		/* CFG_HOOK_* bits; default all */
	int      hooks_timeout;		/* seconds per delivery */
	int      hooks_max_attempts;
	int      hooks_backoff_ms;	/* first retry delay, then doubled */
	int      hooks_backoff_max_ms;	/* cap of the doubling */
	char    *hooks_link_base;	/* the site's URL, for "url"; or NULL */
	int      hooks_allow_http_loopback;

	/* [oidc]: browser login; oidc_issuer NULL = login not configured. */
	char    *oidc_issuer;
	char    *oidc_client_id;
	char    *oidc_client_secret;
	char    *oidc_redirect_uri;
	char    *oidc_origin;		/* scheme://host[:port] of redirect_uri */
	char    *oidc_username_claim;
	char    *oidc_groups_claim;
	char    *oidc_deployer_groups[CFG_MAX_GROUPS];
	size_t   oidc_ndeployer_groups;
	char    *oidc_admin_groups[CFG_MAX_GROUPS];
	size_t   oidc_nadmin_groups;
	int      oidc_allow_http_loopback;

	/* [totp]: the sealing key (never in the database) and the label. */
	unsigned char totp_key[CFG_KEY_LEN];
	int      totp_key_set;
	char    *totp_issuer;

	/* [gerrit]: the built-in patch source; gerrit_url NULL = none. */
	char    *gerrit_url;		/* scheme://host[:port][/path], no '/' at the end */
	char    *gerrit_host;		/* host[:port] of gerrit_url, lower case */
	char    *gerrit_user;		/* HTTP basic user for approving */
	char    *gerrit_password_file;	/* its HTTP password, read when used */
	int      gerrit_poll_interval;	/* seconds between polls when merging */
	int      gerrit_allow_http_loopback;

	/* [git]: the second patch source (refs/changes on a remote). */
	char    *git_program;		/* absolute path; default /usr/bin/git */
	char    *git_dir;		/* work tree on the deploy branch */
	char    *git_remote;		/* remote name or URL */
	char    *git_branch;		/* the deploy branch */
};

/*
 * Read path into a freshly allocated cfg with defaults for missing keys.
 * On error returns NULL and writes a one-line reason (file:line: why) into
 * err. Free with cfg_free().
 */
struct cfg	*cfg_load(const char *path, char *err, size_t errsz);
void		 cfg_free(struct cfg *);

/* A stage kind's config name ("gerrit-merge"), and back (-1 unknown). */
const char	*cfg_kind_name(enum cfg_stage_kind);
int		 cfg_kind_from_name(const char *);

/* A webhook event's name ("rolled_back") and back (-1 unknown). */
const char	*cfg_hook_event_name(enum cfg_hook_event);
int		 cfg_hook_event_from_name(const char *);

/* Stage name as used in SQL and the config ("sync_test"), or NULL. */
const char	*cfg_stage_name(enum cfg_stage);
/* Stage for a name, or -1. */
int		 cfg_stage_from_name(const char *);

/*
 * Parse a JSON array of strings into a NULL-terminated argv (each element
 * and the array malloc'd). Returns NULL on anything else. Free with
 * cfg_argv_free().
 */
char		**cfg_argv_parse(const char *json);
void		 cfg_argv_free(char **);

#endif
