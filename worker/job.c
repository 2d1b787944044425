/* job.c: run what a claimed deployment's state asks for: one stage, or the
 * rollback of every sync stage it touched, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "db.h"
#include "notify.h"
#include "run.h"
#include "util.h"
#include "vocab.h"
#include "worker.h"

/* How long a finished stage keeps trying to report to an unreachable
 * database before giving up (the lease then runs out on its own). */
#define JOB_REPORT_MS	60000

/* The lease renewal while a command runs: which row, in which state. */
struct job_lease {
	struct worker	*w;
	struct job	*j;
	const char	*expect_state;
};

/* See worker.h. */
int
job_call_on(struct worker *w, PGconn **conn, const char *appname, int drain,
    const char *sql, int n, const char *const *params, int retry_ms,
    char **out)
{
	PGresult	*res, *err;
	int64_t		 until = util_now_ms() + retry_ms;
	struct timespec	 ts = { 0, 250 * 1000000 };
	int		 status;

	*out = NULL;
	for (;;) {
		*conn = db_ensure(*conn, w->cfg->db_worker, appname);
		if (*conn != NULL) {
			res = db_exec(*conn, sql, n, params, &err);
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
		if (drain)
			signals_drain(&w->sig);
		if (util_now_ms() >= until || w->sig.terms >= 2)
			return -1;
		notify_watchdog();
		nanosleep(&ts, NULL);
	}
}

/* See worker.h. */
int
job_call(struct worker *w, const char *sql, int n, const char *const *params,
    int retry_ms, char **out)
{
	return job_call_on(w, &w->db, "spiderpig-worker", 1, sql, n, params,
	    retry_ms, out);
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
	j->log.deployment = id;
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
	j->log.seq = seq;
	rc = 0;
out:
	free(v);
	return rc;
}

int
job_lease_renew(struct worker *w, struct job *j)
{
	const char	*params[3] = { w->id, j->idstr, w->lease };
	char		*st = NULL;
	int		 rc;

	notify_watchdog();
	if (job_call(w, "select spiderpig.heartbeat($1, $2, $3::interval)", 3,
	    params, 0, &st) == -1)
		return -1;
	rc = st != NULL && strcmp(st, j->state) == 0;
	free(st);
	return rc;
}

/* run_lease.send: the heartbeat, without waiting for its answer. Returns
 * the connection's socket, or -1 when the database is unreachable (the next
 * interval tries again). A reconnect here blocks for up to connect_timeout;
 * on a local socket that is immediate. */
static int
job_heartbeat_send(void *arg)
{
	struct job_lease *l = arg;
	struct worker	*w = l->w;
	const char	*params[3] = { w->id, l->j->idstr, w->lease };

	w->db = db_ensure(w->db, w->cfg->db_worker, "spiderpig-worker");
	if (w->db == NULL)
		return -1;
	if (!PQsendQueryParams(w->db, "select spiderpig.heartbeat($1, $2, "
	    "$3::interval)", 3, NULL, params, NULL, NULL, 0))
		return -1;
	return PQsocket(w->db);
}

/* Collect every result of the heartbeat in flight: held while the row is
 * still ours in expect_state, lost when it is not, unknown on an error. */
static enum run_lease_answer
job_heartbeat_result(struct job_lease *l)
{
	PGconn		*db = l->w->db;
	PGresult	*res;
	enum run_lease_answer a = RUN_LEASE_UNKNOWN;

	while ((res = PQgetResult(db)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1) {
			if (PQgetisnull(res, 0, 0) || strcmp(PQgetvalue(res,
			    0, 0), l->expect_state) != 0)
				a = RUN_LEASE_LOST;
			else
				a = RUN_LEASE_HELD;
		} else
			log_warn("heartbeat: %s", PQerrorMessage(db));
		PQclear(res);
	}
	return a;
}

/* run_lease.read: the socket is readable. */
static enum run_lease_answer
job_heartbeat_read(void *arg)
{
	struct job_lease *l = arg;

	if (PQconsumeInput(l->w->db) && PQisBusy(l->w->db))
		return RUN_LEASE_PENDING;
	return job_heartbeat_result(l);
}

/* run_lease.settle: leave the connection idle (db_ensure() drops a busy
 * one). */
static void
job_heartbeat_settle(void *arg)
{
	(void)job_heartbeat_result(arg);
}

/* See worker.h. */
enum run_status
job_command(struct worker *w, struct job *j, const char *stage,
    const char *action, char *const *argv, int timeout_s,
    const char *expect_state, int *ok, char *detail, size_t detailsz)
{
	struct job_lease lease = { w, j, expect_state };
	struct run_spec	 sp = {
		.argv = argv,
		.stage = stage,
		.action = action,
		.timeout_s = timeout_s,
		.patches = j->patches,
		.requester = j->requester,
		.env = w->cfg->env,
		.nenv = w->cfg->nenv,
		.log = &j->log,
		/* A stage whose log is lost fails; a rollback still counts
		 * by what its command did. */
		.log_required = strcmp(action, "run") == 0,
		.sig = &w->sig,
		.lease = {
			.arg = &lease,
			.interval_ms = w->cfg->heartbeat_interval * 1000,
			.send = job_heartbeat_send,
			.read = job_heartbeat_read,
			.settle = job_heartbeat_settle,
		},
	};

	return run_command(&sp, ok, detail, detailsz);
}

/* builtin_ctx.keepalive: a heartbeat that waits for its answer (a built-in
 * stage runs in this process, between its own network calls). -1 when the
 * row is no longer ours in expect_state, or on a second SIGTERM; a
 * database that does not answer is not a lost lease (the next call tries
 * again, as run.c does). */
static int
job_builtin_keepalive(void *arg)
{
	struct job_lease *l = arg;

	signals_drain(&l->w->sig);
	if (l->w->sig.terms >= 2)
		return -1;
	return job_lease_renew(l->w, l->j) == 0 ? -1 : 0;
}

/* A number for a double precision parameter ("NaN" for none). */
static void
job_num(double v, char *buf, size_t bufsz)
{
	if (v != v)
		snprintf(buf, bufsz, "NaN");
	else
		snprintf(buf, bufsz, "%.17g", v);
}

/* builtin_ctx.record: one canary sample (spiderpig.canary_record). */
static void
job_builtin_record(void *arg, const struct builtin_sample *s)
{
	struct job_lease *l = arg;
	char		 num[7][32], *out = NULL;
	const char	*params[10] = { l->j->idstr, l->w->id, num[0], s->judge,
			    num[1], num[2], num[3], num[4], num[5], s->verdict };

	job_num(s->elapsed, num[0], sizeof(num[0]));
	job_num(s->canary_errors, num[1], sizeof(num[1]));
	job_num(s->canary_requests, num[2], sizeof(num[2]));
	job_num(s->control_errors, num[3], sizeof(num[3]));
	job_num(s->control_requests, num[4], sizeof(num[4]));
	job_num(s->statistic > 1e300 ? 1e300 : s->statistic, num[5],
	    sizeof(num[5]));
	if (job_call(l->w, "select spiderpig.canary_record($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10)", 10, params, 0, &out) == -1)
		log_warn("deployment %s: cannot record a canary sample",
		    l->j->idstr);
	free(out);
}

/* Run the built-in stage cmd for j (builtin.c). */
static enum run_status
job_builtin(struct worker *w, struct job *j, const struct cfg_command *cmd,
    const char *stage, int *ok, char *detail, size_t detailsz)
{
	struct job_lease lease = { w, j, j->state };
	struct builtin_ctx ctx = {
		.log = &j->log,
		.sig = &w->sig,
		.keepalive_ms = w->cfg->heartbeat_interval * 1000,
		.arg = &lease,
		.keepalive = job_builtin_keepalive,
		.record = job_builtin_record,
	};

	return builtin_run(cmd, stage, &ctx, ok, detail, detailsz);
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

	if (w->sig.terms > 0)
		goto out;	/* shutting down: start nothing new */
	if (job_call(w, "select spiderpig.stage_begin($1, $2)", 2, params, 0,
	    &state) == -1 || state == NULL || strcmp(state, j->state) != 0) {
		log_warn("deployment %s: cannot begin %s (state %s)",
		    j->idstr, name, state != NULL ? state : "not held");
		goto out;
	}
	if (cmd->kind == CFG_KIND_HTTPBB || cmd->kind == CFG_KIND_CANARY) {
		if (job_builtin(w, j, cmd, name, &ok, detail,
		    sizeof(detail)) != RUN_DONE)
			goto out;
	} else if (cmd->kind != CFG_KIND_COMMAND) {
		if (merge_run(w, j, cmd->kind, cmd->timeout, &ok, detail,
		    sizeof(detail)) != RUN_DONE)
			goto out;
	} else if (cmd->argv == NULL) {
		ok = 0;
		snprintf(detail, sizeof(detail), "no command configured for "
		    "stage %s", name);
		logw_say(&j->log, "%s", detail);
	} else if (job_command(w, j, name, "run", cmd->argv, cmd->timeout,
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
 * Run the rollback commands of the stages in names[0..n) (oldest first),
 * newest first. A stage without a rollback command counts as rolled back
 * (and says so in the log). Failures are summed up in summary. Returns 1
 * when every command succeeded, 0 when one failed, -1 when a command was
 * cut short (lease lost, worker exiting).
 */
static int
job_rollback_stages(struct worker *w, struct job *j, char **names, size_t n,
    char *summary, size_t summarysz)
{
	char		 detail[256];
	size_t		 len = 0;
	int		 all_ok = 1, ok, st, i;

	summary[0] = '\0';
	for (i = (int)n - 1; i >= 0; i--) {
		logw_say(&j->log, "rolling back %s", names[i]);
		st = cfg_stage_from_name(names[i]);
		if (st == -1 || w->cfg->stages[st].rollback == NULL) {
			logw_say(&j->log, "no rollback command configured for %s",
			    names[i]);
			continue;
		}
		if (job_command(w, j, names[i], "rollback",
		    w->cfg->stages[st].rollback, w->cfg->stages[st].timeout,
		    vocab_states[STATE_rolling_back].name, &ok, detail,
		    sizeof(detail)) != RUN_DONE)
			return -1;
		if (!ok) {
			all_ok = 0;
			if (len < summarysz)
				len += (size_t)snprintf(summary + len,
				    summarysz - len, "%s%s: %s",
				    len ? "; " : "", names[i], detail);
		}
	}
	return all_ok;
}

/*
 * Roll back the sync stages in j->touched, then report with rollback_done.
 * After a first SIGTERM the rollback still runs to its end: stopping
 * half-way would leave the servers mixed, and the next worker would redo it
 * all anyway. Returns 0 when the rollback was reported, else -1.
 */
static int
job_rollback(struct worker *w, struct job *j)
{
	char		*names[STAGE__COUNT], *p, *save = NULL, *res = NULL;
	char		 summary[1024];
	const char	*params[4] = { j->idstr, w->id, NULL, NULL };
	size_t		 n = 0;
	int		 all_ok, rc = -1;

	for (p = strtok_r(j->touched, " ", &save); p != NULL && n < STAGE__COUNT;
	    p = strtok_r(NULL, " ", &save))
		names[n++] = p;
	if (w->sig.terms > 0)
		return -1;	/* shutting down: the next worker rolls back */
	if (n == 0)
		logw_say(&j->log, "rolling back: no sync stage was started, "
		    "nothing to undo");
	if ((all_ok = job_rollback_stages(w, j, names, n, summary,
	    sizeof(summary))) == -1)
		return -1;
	if (all_ok)
		snprintf(summary, sizeof(summary), n ? "rolled back %zu "
		    "stage%s" : "nothing to roll back", n, n == 1 ? "" : "s");
	params[2] = all_ok ? "true" : "false";
	params[3] = summary;
	if (job_call(w, "select spiderpig.rollback_done($1, $2, $3, $4)", 4,
	    params, JOB_REPORT_MS, &res) == -1)
		log_warn("deployment %s: cannot report the rollback", j->idstr);
	else if (res != NULL) {
		logw_say(&j->log, "rollback %s: %s", all_ok ? "done" : "FAILED",
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
	const struct vocab_state *vs;
	int		 st, rc = -1;

	memset(&j, 0, sizeof(j));
	j.log.logw = w->logw;
	j.log.mask = w->mask;
	if (job_load(&j, claimed) == -1) {
		log_warn("claim_next returned an unexpected row");
		goto out;
	}
	if (job_seq_start(w, &j) == -1) {
		log_warn("deployment %s: cannot read its log position", j.idstr);
		goto out;
	}
	vs = vocab_state(j.state);
	if (w->cfg->mode == CFG_MODE_SCAP) {
		if (vs != NULL && (vs->class == VOCAB_STAGE ||
		    vs->class == VOCAB_ROLLBACK))
			rc = scapjob_run(w, &j.log, j.idstr, j.requester,
			    j.patches);
	} else if (vs != NULL && vs->class == VOCAB_ROLLBACK)
		rc = job_rollback(w, &j);
	else if ((st = vocab_stage_of_state(j.state)) != -1)
		rc = job_stage(w, &j, (enum cfg_stage)st);
	/* Anything else (a prompt) needs no worker. */
out:
	free(j.requester);
	free(j.patches);
	free(j.touched);
	return rc;
}
