/* builtin_stage.c: run one built-in stage kind (worker/builtin.c) outside
 * the worker, for the tests against metric doubles and local servers:
 *
 *   builtin_stage [-T TIMEOUT] KIND KEY=VALUE...
 *
 * The keys are those of a [stage NAME] section. The stage's log lines go
 * to stderr (as the worker's own log has them, "deployment 1: ..."); each
 * canary sample is printed as "sample: ..." and the outcome as "verdict:
 * ok|failed" and "detail: ..." on stdout. Exit status 0 when the stage
 * passed, 1 when it failed, 2 for a config the worker would refuse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "cfg.h"
#include "logw.h"
#include "mask.h"
#include "signals.h"
#include "util.h"

static int
keepalive(void *arg)
{
	(void)arg;
	return 0;
}

static void
record(void *arg, const struct builtin_sample *s)
{
	(void)arg;
	printf("sample: elapsed=%.1f judge=%s canary_errors=%g "
	    "canary_requests=%g control_errors=%g control_requests=%g "
	    "statistic=%g verdict=%s\n", s->elapsed, s->judge, s->canary_errors,
	    s->canary_requests, s->control_errors, s->control_requests,
	    s->statistic, s->verdict);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct cfg_command cmd;
	struct signals	 sig;
	struct logw_sink sink;
	struct builtin_ctx ctx;
	struct cfg	 c;
	char		 detail[1024], err[512];
	int		 ch, ok = 0, i, timeout = 120, kind;
	enum run_status	 rs;

	log_init("builtin_stage");
	while ((ch = getopt(argc, argv, "T:")) != -1) {
		if (ch != 'T')
			return 2;
		timeout = atoi(optarg);
	}
	if (optind >= argc)
		return 2;
	kind = cfg_kind_from_name(argv[optind]);
	if (kind != CFG_KIND_HTTPBB && kind != CFG_KIND_CANARY)
		return 2;
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = (enum cfg_stage_kind)kind;
	cmd.timeout = timeout;
	for (i = optind + 1; i < argc && cmd.nopts < CFG_MAX_OPTS; i++)
		cmd.opts[cmd.nopts++] = argv[i];
	memset(&c, 0, sizeof(c));
	c.stages[STAGE_CANARY_CHECK] = cmd;
	if (builtin_init() == -1 || builtin_check(&c, err, sizeof(err)) == -1) {
		printf("refused: %s\n", err);
		return 2;
	}
	if (signals_init(&sig) == -1)
		return 2;
	memset(&sink, 0, sizeof(sink));
	sink.deployment = 1;
	/* A writer that never reaches a database: the lines that matter are
	 * the ones logw_say also writes to stderr. */
	sink.logw = logw_start("host=/nonexistent dbname=none connect_timeout=1",
	    1000, 1000);
	sink.mask = mask_compile(NULL, 0, err, sizeof(err));
	memset(&ctx, 0, sizeof(ctx));
	ctx.log = &sink;
	ctx.sig = &sig;
	ctx.keepalive_ms = 500;
	ctx.keepalive = keepalive;
	ctx.record = record;
	rs = builtin_run(&cmd, "test_stage", &ctx, &ok, detail, sizeof(detail));
	printf("verdict: %s\ndetail: %s\n", rs != RUN_DONE ? "stopped" :
	    ok ? "ok" : "failed", detail);
	fflush(stdout);
	logw_stop(sink.logw, 0);
	mask_free(sink.mask);
	return ok ? 0 : 1;
}
