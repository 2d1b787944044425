/* builtin.c: dispatch to the stage kinds built into the worker
 * (builtin.h), and their shared helpers. */
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "httpc.h"

int
builtin_init(void)
{
	return httpc_init();
}

const char *
builtin_opt(const char *opt, const char *key)
{
	size_t	klen = strlen(key);

	if (strncmp(opt, key, klen) == 0 && opt[klen] == '=')
		return opt + klen + 1;
	return NULL;
}

int
builtin_check(const struct cfg *c, char *err, size_t errsz)
{
	const struct cfg_command *cmd;
	char	 why[256];
	int	 i, rc;

	for (i = 0; i < STAGE__COUNT; i++) {
		cmd = &c->stages[i];
		switch (cmd->kind) {
		case CFG_KIND_HTTPBB:
			rc = smoke_check(cmd->opts, cmd->nopts, why,
			    sizeof(why));
			break;
		case CFG_KIND_CANARY:
			rc = canary_check(cmd->opts, cmd->nopts, why,
			    sizeof(why));
			break;
		default:
			/* Commands, and the merge kinds (lib/cfg.c checks
			 * those). */
			continue;
		}
		if (rc == -1) {
			snprintf(err, errsz, "[stage %s] kind = %s: %s",
			    cfg_stage_name(i), cfg_kind_name(cmd->kind), why);
			return -1;
		}
	}
	return 0;
}

enum run_status
builtin_run(const struct cfg_command *cmd, const char *stage,
    struct builtin_ctx *ctx, int *ok, char *detail, size_t detailsz)
{
	logw_say(ctx->log, "%s: built-in %s stage, timeout %d s", stage,
	    cfg_kind_name(cmd->kind), cmd->timeout);
	switch (cmd->kind) {
	case CFG_KIND_HTTPBB:
		return smoke_run(cmd->opts, cmd->nopts, cmd->timeout, ctx, ok,
		    detail, detailsz);
	case CFG_KIND_CANARY:
		return canary_run(cmd->opts, cmd->nopts, cmd->timeout, ctx, ok,
		    detail, detailsz);
	default:
		break;
	}
	*ok = 0;
	snprintf(detail, detailsz, "no built-in kind %d", (int)cmd->kind);
	return RUN_DONE;
}
