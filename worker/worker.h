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

#include <libpq-fe.h>

#include "cfg.h"
#include "logw.h"
#include "signals.h"

struct mask;

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

#endif
