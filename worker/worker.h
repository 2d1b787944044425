/* worker.h: the worker daemon's shared state, and the interfaces between
 * its files: main.c (startup, signals, the claim loop), job.c (what a
 * claimed deployment's state asks for) and run.c (one child process). */
#ifndef SPIDERPIG_WORKER_H
#define SPIDERPIG_WORKER_H

#include <signal.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "logw.h"

/* SIGTERM then SIGKILL after this long, for timeouts and lost leases. */
#define WORKER_KILL_GRACE_MS	5000

struct worker {
	struct cfg	*cfg;
	char		 id[160];	/* "<hostname>/<pid>/<8 hex>" */
	char		 lease[32];	/* "<lease> seconds", an interval */
	PGconn		*db;		/* claims, stages, heartbeats */
	PGconn		*listen;	/* LISTEN spiderpig, nothing else */
	struct logw	*logw;
	int		 sigfd;		/* read end of the self-pipe */
	int		 terms;		/* SIGTERM/SIGINT received */
	int		 child_exited;	/* SIGCHLD seen since last cleared */
};

/* A claimed deployment, as far as running it needs. */
struct job {
	int64_t		 id;
	char		 idstr[24];
	char		 state[32];
	char		*requester;
	char		*patches;	/* space-separated */
	char		*touched;	/* touched_stages, space-separated */
	int64_t		 seq;		/* last log seq used */
};

/* Why run_command() came back. */
enum run_status {
	RUN_DONE,		/* the command ended (ok tells how) */
	RUN_LOST,		/* lease lost or state moved: stop quietly */
	RUN_KILLED,		/* second SIGTERM: the worker is exiting */
};

/* main.c: drain the self-pipe into w->terms / w->child_exited. */
void		 worker_signals(struct worker *);

/* job.c: run what the claimed row asks for (one stage, or the whole
 * rollback) and report it. Returns 0 when it did, -1 when nothing was done
 * (lease lost, database trouble, an unexpected row): the caller then waits
 * before claiming again instead of spinning. */
int		 job_run(struct worker *, PGresult *claimed);

/* job.c: queue a 'system' log line for the job (printf-style). */
void		 job_log(struct worker *, struct job *, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * run.c: run argv with the stage environment for job, capturing its output
 * into the log, renewing the lease, enforcing timeout_s. expect_state is the
 * state the row must keep while it runs. On RUN_DONE, *ok and detail say how
 * the command ended ("exit status 0", "timed out after 60 s").
 * Process group policy: on timeout, lost lease or a second SIGTERM the whole
 * group gets SIGTERM, then SIGKILL WORKER_KILL_GRACE_MS later (a second
 * SIGTERM: SIGKILL at once). When the command exits normally, processes it
 * left behind are killed only if they still hold its output open after 2 s
 * (a properly detached daemon survives). Output is never dropped for speed:
 * when the log writer holds LOGW_MAX_BYTES the pipes are not read, and the
 * command blocks in write() until the database catches up.
 */
enum run_status	 run_command(struct worker *, struct job *,
		    const char *stage, const char *action, char *const *argv,
		    int timeout_s, const char *expect_state, int *ok,
		    char *detail, size_t detailsz);

#endif
