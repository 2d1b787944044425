/* builtin.h: stage kinds built into the worker ([stage NAME] kind = httpbb
 * or canary). They run in the worker process itself, not as the stage
 * user: they read files and talk HTTP, and never run a command. What they
 * need from job.c (the lease, the canary samples) comes in as callbacks,
 * as for run.c. */
#ifndef SPIDERPIG_BUILTIN_H
#define SPIDERPIG_BUILTIN_H

#include <stddef.h>

#include "cfg.h"
#include "logw.h"
#include "run.h"
#include "signals.h"

/* One look of the canary judge, for the deployment page's chart
 * (spiderpig.canary_record). Counts are NaN when the look found none. */
struct builtin_sample {
	double		 elapsed;
	const char	*judge;		/* "threshold" or "sequential" */
	double		 canary_errors, canary_requests;
	double		 control_errors, control_requests;
	double		 statistic;
	const char	*verdict;	/* canary_verdict_name() */
};

/* Where a built-in stage reports and how it keeps its lease. */
struct builtin_ctx {
	struct logw_sink *log;
	struct signals	*sig;
	int		 keepalive_ms;	/* call keepalive at least this often */
	void		*arg;
	/* Renew the lease. 0 while the stage may go on; -1 when it must stop
	 * quietly (lease lost, state moved on, second SIGTERM). */
	int		(*keepalive)(void *arg);
	/* Store one canary sample; failures are the callee's to log. */
	void		(*record)(void *arg, const struct builtin_sample *);
};

/* Once at startup, before any thread: libcurl's global state (lib/httpc).
 * -1 on failure. */
int		 builtin_init(void);

/*
 * Check the keys of every built-in stage in cfg (as at run time), so a
 * mistake stops the worker at startup instead of failing a deployment.
 * Returns 0, or -1 with "[stage NAME] why" in err.
 */
int		 builtin_check(const struct cfg *, char *err, size_t errsz);

/*
 * Run the built-in stage cmd (cmd->kind is not CFG_KIND_COMMAND) within
 * cmd->timeout seconds. As run_command(): RUN_DONE with *ok and detail,
 * or RUN_LOST / RUN_KILLED when keepalive said stop.
 */
enum run_status	 builtin_run(const struct cfg_command *cmd, const char *stage,
		    struct builtin_ctx *, int *ok, char *detail,
		    size_t detailsz);

/* The value of opt ("key=value") when its key is key, else NULL. For the
 * kinds' parsers. */
const char	*builtin_opt(const char *opt, const char *key);

/* smoke.c and canary.c: parse the kind's keys (0, or -1 with why) and run
 * it. */
int		 smoke_check(char *const *opts, size_t nopts, char *why,
		    size_t whysz);
enum run_status	 smoke_run(char *const *opts, size_t nopts, int timeout_s,
		    struct builtin_ctx *, int *ok, char *detail,
		    size_t detailsz);
int		 canary_check(char *const *opts, size_t nopts, char *why,
		    size_t whysz);
enum run_status	 canary_run(char *const *opts, size_t nopts, int timeout_s,
		    struct builtin_ctx *, int *ok, char *detail,
		    size_t detailsz);

#endif
