/* job.c: run what a claimed deployment's state asks for: one stage, or the
 * rollback of every sync stage it touched, newest first. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "util.h"
#include "worker.h"

/* How long a finished stage keeps trying to report to an unreachable
 * database before giving up (the lease then runs out on its own). */
#define JOB_REPORT_MS	60000

static const struct {
	const char	*state;
	enum cfg_stage	 stage;
} stage_states[] = {
	{ "merging",		STAGE_MERGE },
	{ "syncing_test",	STAGE_SYNC_TEST },
	{ "smoke_testing",	STAGE_SMOKE_TEST },
	{ "syncing_canary",	STAGE_SYNC_CANARY },
	{ "checking_canary",	STAGE_CANARY_CHECK },
	{ "syncing_production",	STAGE_SYNC_PRODUCTION },
};

/* The stage a state runs, or -1 (prompts, rolling_back, terminal). */
static int
job_stage_of(const char *state)
{
	size_t	i;

	for (i = 0; i < sizeof(stage_states) / sizeof(stage_states[0]); i++)
		if (strcmp(stage_states[i].state, state) == 0)
			return (int)stage_states[i].stage;
	return -1;
}

void
job_log(struct worker *w, struct job *j, const char *fmt, ...)
{
	char	 buf[4096];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	log_info("deployment %s: %s", j->idstr, buf);
	logw_put(w->logw, j->id, ++j->seq, logw_now_usec(), LOGW_SYSTEM, buf,
	    (size_t)n);
}

/*
 * Run a statement returning one text value on the main connection,
 * retrying while the database is unreachable (for up to retry_ms, or until
 * a second SIGTERM). On success returns 0 and *out is a malloc'd copy of
 * the value or NULL for SQL NULL; on failure -1.
 */
static int
job_call(struct worker *w, const char *sql, int n, const char *const *params,
    int retry_ms, char **out)
{
	PGresult	*res, *err;
	int64_t		 until = util_now_ms() + retry_ms;
	struct timespec	 ts = { 0, 250 * 1000000 };
	int		 status;

	*out = NULL;
	for (;;) {
		w->db = db_ensure(w->db, w->cfg->db_worker, "spiderpig-worker");
		if (w->db != NULL) {
			res = db_exec(w->db, sql, n, params, &err);
			if (res != NULL) {
				if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
					*out = strdup(PQgetvalue(res, 0, 0));
				PQclear(res);
				return 0;
			}
			status = db_error_status(err);
			if (err != NULL)
				log_warn("%s: %s", sql, PQresultErrorMessage(err));
			PQclear(err);
			if (status != 503)
				return -1;
		}
		worker_signals(w);
		if (util_now_ms() >= until || w->terms >= 2)
			return -1;
		nanosleep(&ts, NULL);
	}
}

/* Fill j from the claimed row; 0, or -1 when the row is empty. */
static int
job_load(struct job *j, PGresult *res)
{
	int	 c_id = PQfnumber(res, "id"), c_state = PQfnumber(res, "state");
	int	 c_req = PQfnumber(res, "requester");
	int	 c_pat = PQfnumber(res, "patches");
	int	 c_tou = PQfnumber(res, "touched");
	long long id;
	const char *errstr;

	if (PQntuples(res) != 1 || c_id < 0 || c_state < 0 || c_req < 0 ||
	    c_pat < 0 || c_tou < 0 || PQgetisnull(res, 0, c_id))
		return -1;
	if (util_strtonum(PQgetvalue(res, 0, c_id), 1, INT64_MAX, &id,
	    &errstr) == -1)
		return -1;
	j->id = id;
	snprintf(j->idstr, sizeof(j->idstr), "%lld", id);
	snprintf(j->state, sizeof(j->state), "%s", PQgetvalue(res, 0, c_state));
	j->requester = strdup(PQgetvalue(res, 0, c_req));
	j->patches = strdup(PQgetvalue(res, 0, c_pat));
	j->touched = strdup(PQgetvalue(res, 0, c_tou));
	if (j->requester == NULL || j->patches == NULL || j->touched == NULL)
		return -1;
	return 0;
}

/*
 * Continue the deployment's log numbering. Lines we queued earlier must be
 * in the table first, so wait for the writer.
 */
static int
job_seq_start(struct worker *w, struct job *j)
{
	const char	*params[1] = { j->idstr };
	char		*v = NULL;
	long long	 seq;
	const char	*errstr;
	int		 rc = -1;

	if (logw_flush(w->logw, 30000) == -1)
		log_warn("deployment %s: log lines still queued; sequence "
		    "numbers may collide", j->idstr);
	if (job_call(w, "select coalesce(max(seq), 0) from spiderpig.log_lines "
	    "where deployment_id = $1", 1, params, 0, &v) == -1 || v == NULL)
		goto out;
	if (util_strtonum(v, 0, INT64_MAX, &seq, &errstr) == -1)
		goto out;
	j->seq = seq;
	rc = 0;
out:
	free(v);
	return rc;
}

/* One stage: stage_begin, the command, stage_done. Returns 0 when the
 * stage ran and was reported, else -1. */
static int
job_stage(struct worker *w, struct job *j, enum cfg_stage st)
{
	const struct cfg_command *cmd = &w->cfg->stages[st];
	const char	*name = cfg_stage_name(st);
	const char	*params[4] = { j->idstr, w->id, NULL, NULL };
	char		*state = NULL, *next = NULL, detail[256];
	int		 ok, rc = -1;

	if (w->terms > 0)
		goto out;	/* shutting down: start nothing new */
	if (job_call(w, "select spiderpig.stage_begin($1, $2)", 2, params, 0,
	    &state) == -1 || state == NULL || strcmp(state, j->state) != 0) {
		log_warn("deployment %s: cannot begin %s (state %s)",
		    j->idstr, name, state != NULL ? state : "not held");
		goto out;
	}
	if (cmd->argv == NULL) {
		ok = 0;
		snprintf(detail, sizeof(detail), "no command configured for "
		    "stage %s", name);
		job_log(w, j, "%s", detail);
	} else if (run_command(w, j, name, "run", cmd->argv, cmd->timeout,
	    j->state, &ok, detail, sizeof(detail)) != RUN_DONE)
		goto out;
	params[2] = ok ? "true" : "false";
	params[3] = detail;
	if (job_call(w, "select spiderpig.stage_done($1, $2, $3, $4)", 4,
	    params, JOB_REPORT_MS, &next) == -1) {
		log_warn("deployment %s: cannot report %s", j->idstr, name);
		goto out;
	}
	log_info("deployment %s: %s %s -> %s", j->idstr, name,
	    ok ? "ok" : "failed", next != NULL ? next : "(not held)");
	rc = next != NULL ? 0 : -1;
out:
	free(state);
	free(next);
	return rc;
}

/*
 * Roll back the sync stages in j->touched (oldest first), newest first,
 * then report with rollback_done. A stage without a rollback command counts
 * as rolled back (and says so in the log). After a first SIGTERM the
 * rollback still runs to its end: stopping half-way would leave the servers
 * mixed, and the next worker would redo it all anyway. Returns 0 when the
 * rollback was reported, else -1.
 */
static int
job_rollback(struct worker *w, struct job *j)
{
	char		*names[STAGE__COUNT], *p, *save = NULL, *res = NULL;
	char		 detail[256], summary[1024];
	const char	*params[4] = { j->idstr, w->id, NULL, NULL };
	size_t		 n = 0, len = 0;
	int		 all_ok = 1, ok, st, i, rc = -1;

	for (p = strtok_r(j->touched, " ", &save); p != NULL && n < STAGE__COUNT;
	    p = strtok_r(NULL, " ", &save))
		names[n++] = p;
	summary[0] = '\0';
	if (w->terms > 0)
		return -1;	/* shutting down: the next worker rolls back */
	if (n == 0)
		job_log(w, j, "rolling back: no sync stage was started, "
		    "nothing to undo");
	for (i = (int)n - 1; i >= 0; i--) {
		job_log(w, j, "rolling back %s", names[i]);
		st = cfg_stage_from_name(names[i]);
		if (st == -1 || w->cfg->stages[st].rollback == NULL) {
			job_log(w, j, "no rollback command configured for %s",
			    names[i]);
			continue;
		}
		if (run_command(w, j, names[i], "rollback",
		    w->cfg->stages[st].rollback, w->cfg->stages[st].timeout,
		    "rolling_back", &ok, detail, sizeof(detail)) != RUN_DONE)
			return -1;
		if (!ok) {
			all_ok = 0;
			if (len < sizeof(summary))
				len += (size_t)snprintf(summary + len,
				    sizeof(summary) - len, "%s%s: %s",
				    len ? "; " : "", names[i], detail);
		}
	}
	if (all_ok)
		snprintf(summary, sizeof(summary), n ? "rolled back %zu "
		    "stage%s" : "nothing to roll back", n, n == 1 ? "" : "s");
	params[2] = all_ok ? "true" : "false";
	params[3] = summary;
	if (job_call(w, "select spiderpig.rollback_done($1, $2, $3, $4)", 4,
	    params, JOB_REPORT_MS, &res) == -1)
		log_warn("deployment %s: cannot report the rollback", j->idstr);
	else if (res != NULL) {
		job_log(w, j, "rollback %s: %s", all_ok ? "done" : "FAILED",
		    summary);
		rc = 0;
	}
	free(res);
	return rc;
}

int
job_run(struct worker *w, PGresult *claimed)
{
	struct job	 j;
	int		 st, rc = -1;

	memset(&j, 0, sizeof(j));
	if (job_load(&j, claimed) == -1) {
		log_warn("claim_next returned an unexpected row");
		goto out;
	}
	if (job_seq_start(w, &j) == -1) {
		log_warn("deployment %s: cannot read its log position", j.idstr);
		goto out;
	}
	if (strcmp(j.state, "rolling_back") == 0)
		rc = job_rollback(w, &j);
	else if ((st = job_stage_of(j.state)) != -1)
		rc = job_stage(w, &j, (enum cfg_stage)st);
	/* Anything else (a prompt) needs no worker. */
out:
	free(j.requester);
	free(j.patches);
	free(j.touched);
	return rc;
}
