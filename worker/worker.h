/* worker.h: the worker daemon's shared state, and the one call between its
 * top two layers. The files depend in one direction:
 *
 *   main.c (startup, the claim loop)
 *     -> job.c (what a claimed deployment's state asks for; the lease)
 *       -> run.c (one child process; asks for lease renewals by callback)
 *   and below all three: signals.c (self-pipe), logw.c (log writer),
 *   lines.c (line splitting, COPY escaping), lib/.
 */
#ifndef SPIDERPIG_WORKER_H
#define SPIDERPIG_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "logw.h"
#include "run.h"
#include "signals.h"

struct mask;

/* A claimed deployment, as far as running it needs. */
struct job {
	char		 idstr[24];
	char		 state[32];
	char		*requester;
	char		*patches;	/* space-separated */
	char		*touched;	/* touched_stages, space-separated */
	struct logw_sink log;		/* its log; log.seq: last seq used */
};

struct worker {
	struct cfg	*cfg;
	char		 id[160];	/* "<hostname>/<pid>/<8 hex>" */
	char		 lease[32];	/* "<lease> seconds", an interval */
	PGconn		*db;		/* claims, stages, heartbeats */
	PGconn		*listen;	/* LISTEN spiderpig, nothing else */
	PGconn		*side;		/* scap mode: what records change,
					   while db renews the lease */
	struct logw	*logw;
	struct mask	*mask;		/* [worker] mask; main thread only */
	struct signals	 sig;
	int		 gerrit_host_synced;	/* settings.gerrit_host set */
	int		 ready;		/* READY=1 sent (registered) */
	int64_t		 changes_retry_ms;	/* no fetch before (monotonic) */
};

/* job.c: run what the claimed row asks for (one stage, or the whole
 * rollback) and report it. Returns 0 when it did, -1 when nothing was done
 * (lease lost, database trouble, an unexpected row): the caller then waits
 * before claiming again instead of spinning. */
int		 job_run(struct worker *, PGresult *claimed);

/* scapjob.c: scap mode: the claimed row (id, requester, space-separated
 * patches, its log) runs as one scap command from "ready: yes" to its end,
 * or, when its run was lost with an earlier worker, is ended as such.
 * Returns 0 when the end was reported, -1 when nothing was (lease lost,
 * database trouble, worker exiting). */
int		 scapjob_run(struct worker *, struct logw_sink *log,
		    const char *idstr, const char *requester,
		    const char *patches);

/*
 * job.c: run a statement returning one text value on the main connection,
 * retrying while the database is unreachable (for up to retry_ms, or until
 * a second SIGTERM). On success returns 0 and *out is a malloc'd copy of
 * the value or NULL for SQL NULL; on failure -1.
 */
int		 job_call(struct worker *, const char *sql, int n,
		    const char *const *params, int retry_ms, char **out);
/* job.c: the same on another connection (*conn, reconnected as appname),
 * draining the signal state between tries only when drain is set (the
 * thread that owns it). */
int		 job_call_on(struct worker *, PGconn **conn, const char *appname,
		    int drain, const char *sql, int n, const char *const *params,
		    int retry_ms, char **out);

/* job.c: run one command for j (stage or rollback), renewing the lease
 * while the row stays in expect_state. See run_command() for the rest. */
enum run_status	 job_command(struct worker *, struct job *, const char *stage,
		    const char *action, char *const *argv, int timeout_s,
		    const char *expect_state, int *ok, char *detail,
		    size_t detailsz);

/* job.c: renew j's lease now. 1 while the row is ours in j->state, 0 when
 * it is lost or moved on, -1 when the database did not answer. */
int		 job_lease_renew(struct worker *, struct job *);

/*
 * merge.c: a built-in merge stage (kind gerrit-merge or git-cherry-pick)
 * for j, within timeout_s seconds, renewing the lease as run_command()
 * does. Returns as run_command() does; on RUN_DONE *ok and detail say how
 * it went, every step and every bad answer having been logged.
 */
enum run_status	 merge_run(struct worker *, struct job *, int kind,
		    int timeout_s, int *ok, char *detail, size_t detailsz);

/* merge.c: fetch from Gerrit the changes of the deployments waiting at
 * the ready prompt, for the prompt's question. Failures are logged and
 * retried 30 s later. */
void		 merge_fetch_wanted(struct worker *);

#endif
