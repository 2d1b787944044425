/* run.h: run one stage or rollback command and capture its output. run.c
 * knows nothing of jobs or of the database: what it needs from above (the
 * lease renewal) comes in as callbacks. */
#ifndef SPIDERPIG_RUN_H
#define SPIDERPIG_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "logw.h"
#include "signals.h"

/* SIGTERM then SIGKILL after this long, for timeouts and lost leases. */
#define RUN_KILL_GRACE_MS	5000

/* Why run_command() came back. */
enum run_status {
	RUN_DONE,		/* the command ended (ok tells how) */
	RUN_LOST,		/* lease lost or state moved: stop quietly */
	RUN_KILLED,		/* second SIGTERM: the worker is exiting */
};

/* What a lease renewal answered. */
enum run_lease_answer {
	RUN_LEASE_PENDING,	/* not complete yet: wait for the fd again */
	RUN_LEASE_HELD,		/* still ours, in the state the run needs */
	RUN_LEASE_LOST,		/* lost, or the deployment moved on */
	RUN_LEASE_UNKNOWN,	/* could not tell: try again next interval */
};

/*
 * The lease renewal the caller does while the command runs (job.c: the
 * heartbeat on the main connection), every interval_ms.
 */
struct run_lease {
	void	*arg;
	int	 interval_ms;
	/* Start a renewal without waiting. Returns the fd its answer comes
	 * on, or -1 when none was sent (the next interval tries again). */
	int	(*send)(void *arg);
	/* The fd is readable: read what came. */
	enum run_lease_answer (*read)(void *arg);
	/* Wait for the answer still in flight and drop it, so the connection
	 * is idle when run_command() returns. */
	void	(*settle)(void *arg);
	/* Optional (NULL: none): wake_fd became readable (a NOTIFY); return
	 * 1 to renew at once instead of at the next interval, 0 for nothing,
	 * -1 to stop watching wake_fd. */
	int	(*wake)(void *arg);
	int	 wake_fd;
};

/* What the record filter makes of one stdout line. */
enum run_record_verdict {
	RUN_REC_PLAIN,		/* ordinary output: log it as it is */
	RUN_REC_LOG,		/* log *text instead (with *sensitive) */
	RUN_REC_DROP,		/* consumed: log nothing */
	RUN_REC_STOP,		/* consumed, and stop the command */
};

/*
 * Optional filter over the command's stdout (scap mode): called for each
 * complete line, never for a piece of a line cut at LINES_MAX (nor for its
 * last piece). *text, when set, stays valid until the next call.
 */
struct run_records {
	void	*arg;
	enum run_record_verdict (*line)(void *arg, const char *line,
		    size_t len, const char **text, size_t *textlen,
		    int *sensitive);
};

/* One command to run, and where everything goes. */
struct run_spec {
	char *const		*argv;		/* argv[0] an absolute path */
	const char		*stage;
	const char		*action;	/* "run" or "rollback" */
	int			 timeout_s;
	const char		*patches;	/* SPIDERPIG_PATCHES */
	const char		*requester;	/* SPIDERPIG_REQUESTER */
	char *const		*env;		/* [worker] env: KEY=VALUE */
	size_t			 nenv;
	struct logw_sink	*log;		/* output and system lines */
	struct signals		*sig;
	struct run_lease	 lease;
	/* The rest is optional (zero for a stage command). */
	char *const		*extra_env;	/* KEY=VALUE, set last */
	size_t			 nextra_env;
	/* Non-NULL: stdin is a pipe whose write end (non-blocking) is kept
	 * here while the command runs, and set to -1 when it is closed. */
	int			*stdin_fd;
	int			 stop_signal;	/* 0: SIGTERM */
	int			 grace_ms;	/* 0: RUN_KILL_GRACE_MS */
	struct run_records	 records;
};

/*
 * Run spec->argv with the stage environment, capturing its output into the
 * log, renewing the lease, enforcing the timeout. On RUN_DONE, *ok and
 * detail say how the command ended ("exit status 0", "timed out after
 * 60 s").
 * Process group policy: on timeout, lost lease, a RUN_REC_STOP record or a
 * second SIGTERM the whole group gets stop_signal (SIGTERM), then SIGKILL
 * grace_ms (RUN_KILL_GRACE_MS) later (a second SIGTERM: SIGKILL at once). When the command exits normally, processes it
 * left behind are killed only if they still hold its output open after 2 s
 * (a properly detached daemon survives). Output is never dropped for speed:
 * when the log writer holds LOGW_MAX_BYTES the pipes are not read, and the
 * command blocks in write() until the database catches up.
 */
enum run_status	 run_command(const struct run_spec *, int *ok, char *detail,
		    size_t detailsz);

#endif
