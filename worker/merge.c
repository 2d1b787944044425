/*
 * merge.c: the built-in merge stage kinds.
 *
 * gerrit-merge: read every change, refuse what must not be merged, approve
 * each (Code-Review +2), then poll until Gerrit says every one is merged.
 * The stage fails (and the failure prompt asks what to do, rolling back
 * when nobody answers) on any of:
 *   - a change abandoned, with Code-Review -2, or with a CI failure
 *     (a negative Verified vote);
 *   - a new patchset: the deployer agreed to the one shown at the ready
 *     prompt (or pinned in the URL). The new one is recorded first, so
 *     the failure prompt's question shows it and "retry" approves it;
 *   - a change Gerrit calls unmergeable twice;
 *   - any answer that is not a well-formed 200 (status, transport,
 *     malformed or prefix-less JSON): never guessed to be fine;
 *   - not merged within the stage's timeout.
 * git-cherry-pick: gitsrc.c.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "gerrit.h"
#include "gitsrc.h"
#include "notify.h"
#include "util.h"
#include "worker.h"

/* Seconds between retries of a failed fetch for the ready prompt. */
#define MERGE_FETCH_RETRY_MS	30000
/* Unmergeable answers that end the stage. */
#define MERGE_UNMERGEABLE_MAX	2

/* One patch of the deployment. */
struct merge_patch {
	int			 ord;
	long long		 change;
	int			 pinned;	/* patchset, 0: not pinned */
	int			 fetched;	/* patchset shown, 0: none */
	int			 unmergeable;	/* answers so far */
	int			 merged;
	struct gerrit_change	 c;
};

/*
 * Load the deployment's patches (deployment_patches()) into a new array
 * (free()) of *n entries. Returns NULL when the database did not answer.
 */
static struct merge_patch *
merge_patches(struct worker *w, const char *idstr, size_t *n)
{
	const char		*params[1] = { idstr };
	struct merge_patch	*p = NULL;
	PGresult		*res, *err;
	long long		 v;
	const char		*errstr;
	int			 i, rows;

	*n = 0;
	w->db = db_ensure(w->db, w->cfg->db_worker, "spiderpig-worker");
	if (w->db == NULL)
		return NULL;
	if ((res = db_exec(w->db, "select ord, change, coalesce(pinned, 0), "
	    "coalesce(fetched, 0) from spiderpig.deployment_patches($1)", 1,
	    params, &err)) == NULL) {
		if (err != NULL)
			log_warn("deployment_patches: %s",
			    PQresultErrorMessage(err));
		PQclear(err);
		return NULL;
	}
	rows = PQntuples(res);
	if (rows < 1 || rows > 20 || (p = calloc((size_t)rows,
	    sizeof(*p))) == NULL)
		goto fail;
	for (i = 0; i < rows; i++) {
		p[i].ord = i;
		if (util_strtonum(PQgetvalue(res, i, 1), 1, 999999999, &v,
		    &errstr) == -1)
			goto fail;
		p[i].change = v;
		if (util_strtonum(PQgetvalue(res, i, 2), 0, 99999, &v,
		    &errstr) == -1)
			goto fail;
		p[i].pinned = (int)v;
		if (util_strtonum(PQgetvalue(res, i, 3), 0, 99999, &v,
		    &errstr) == -1)
			goto fail;
		p[i].fetched = (int)v;
	}
	PQclear(res);
	*n = (size_t)rows;
	return p;
fail:
	log_warn("deployment %s: deployment_patches gave an unexpected answer",
	    idstr);
	PQclear(res);
	free(p);
	return NULL;
}

/* Store what Gerrit said about p (change_record). 0 or -1. */
static int
merge_record(struct worker *w, const char *idstr, const struct merge_patch *p,
    int mergeable)
{
	char		 ord[16], *json, *out = NULL;
	const char	*params[3] = { idstr, ord, NULL };
	int		 rc;

	snprintf(ord, sizeof(ord), "%d", p->ord);
	if ((json = gerrit_change_json(&p->c, mergeable)) == NULL)
		return -1;
	params[2] = json;
	rc = job_call(w, "select spiderpig.change_record($1, $2, $3::jsonb)",
	    3, params, 0, &out);
	free(json);
	free(out);
	return rc;
}

/*
 * Fetch p's change into p->c and log it. Returns 0, or -1 with the reason
 * in detail (logged too).
 */
static int
merge_fetch(struct worker *w, struct job *j, struct merge_patch *p,
    char *detail, size_t detailsz)
{
	char	 err[512], votes[256];

	if (gerrit_fetch(w->cfg, p->change, p->pinned, &p->c, err,
	    sizeof(err)) == -1) {
		snprintf(detail, detailsz, "Gerrit: %s", err);
		logw_say(&j->log, "%s", detail);
		return -1;
	}
	gerrit_votes_text(&p->c, votes, sizeof(votes));
	logw_say(&j->log, "change %lld patchset %d%s: %s %s \"%s\" by %s; %s; "
	    "%s", p->change, p->c.patchset, p->pinned ? " (pinned)" : "",
	    p->c.project, p->c.branch, p->c.subject, p->c.owner, p->c.status,
	    votes);
	return 0;
}

/*
 * The checks every answer about p must pass: not abandoned, no
 * Code-Review -2, no CI failure, the patchset the deployer agreed to.
 * Returns 0, or -1 with the reason in detail (logged).
 */
static int
merge_check(struct job *j, const struct merge_patch *p, char *detail,
    size_t detailsz)
{
	const struct gerrit_change *c = &p->c;
	int	 want = p->pinned ? p->pinned : p->fetched;

	if (strcmp(c->status, "ABANDONED") == 0)
		snprintf(detail, detailsz, "change %lld is abandoned",
		    p->change);
	else if (c->cr_min <= -2)
		snprintf(detail, detailsz, "change %lld has Code-Review -2 "
		    "from %s", p->change, c->cr_min_who);
	else if (c->verified_set && c->verified < 0)
		snprintf(detail, detailsz, "change %lld failed CI (Verified "
		    "%d)", p->change, c->verified);
	else if (strcmp(c->status, "MERGED") != 0 && p->pinned &&
	    c->current_patchset != p->pinned)
		snprintf(detail, detailsz, "change %lld is pinned to patchset "
		    "%d but its current patchset is %d: only the current one "
		    "can merge", p->change, p->pinned, c->current_patchset);
	else if (strcmp(c->status, "MERGED") != 0 && want != 0 &&
	    c->current_patchset != want)
		snprintf(detail, detailsz, "change %lld has a new patchset %d "
		    "(patchset %d was shown when you said ready); retry to "
		    "approve patchset %d", p->change, c->current_patchset, want,
		    c->current_patchset);
	else
		return 0;
	logw_say(&j->log, "%s", detail);
	return -1;
}

/*
 * Wait up to ms for a signal, renewing the lease first (ms 0: only renew).
 * Returns RUN_DONE to go on, RUN_LOST when the row is no longer ours,
 * RUN_KILLED on a second SIGTERM.
 */
static enum run_status
merge_wait(struct worker *w, struct job *j, int ms)
{
	struct pollfd	 pfd = { w->sig.fd, POLLIN, 0 };
	int64_t		 until = util_now_ms() + ms;
	int		 left;

	for (;;) {
		signals_drain(&w->sig);
		if (w->sig.terms >= 2)
			return RUN_KILLED;
		if (job_lease_renew(w, j) == 0) {
			logw_say(&j->log, "lost the lease: stopping");
			return RUN_LOST;
		}
		if ((left = (int)(until - util_now_ms())) <= 0)
			return RUN_DONE;
		if (left > w->cfg->heartbeat_interval * 1000)
			left = w->cfg->heartbeat_interval * 1000;
		(void)poll(&pfd, 1, notify_watchdog_cap(left));
		notify_watchdog();
	}
}

/* First pass: fetch, record, check and approve every change, renewing the
 * lease between changes. -1 with detail when the stage fails, or with *rs
 * set when the lease was lost or the worker is exiting. */
static int
merge_approve_all(struct worker *w, struct job *j, struct merge_patch *p,
    size_t n, enum run_status *rs, char *detail, size_t detailsz)
{
	char	 err[512];
	size_t	 i;

	for (i = 0; i < n; i++) {
		if ((*rs = merge_wait(w, j, 0)) != RUN_DONE)
			return -1;
		if (merge_fetch(w, j, &p[i], detail, detailsz) == -1)
			return -1;
		if (merge_record(w, j->idstr, &p[i], -1) == -1)
			logw_say(&j->log, "could not store what Gerrit said "
			    "about change %lld", p[i].change);
		if (merge_check(j, &p[i], detail, detailsz) == -1)
			return -1;
		/* From now on a newer patchset is a new question. */
		p[i].fetched = p[i].c.patchset;
		if (strcmp(p[i].c.status, "MERGED") == 0) {
			logw_say(&j->log, "change %lld is already merged",
			    p[i].change);
			p[i].merged = 1;
			continue;
		}
		if (gerrit_approve(w->cfg, p[i].change, p[i].c.revision, err,
		    sizeof(err)) == -1) {
			snprintf(detail, detailsz, "Gerrit: approving change "
			    "%lld: %s", p[i].change, err);
			logw_say(&j->log, "%s", detail);
			return -1;
		}
		logw_say(&j->log, "approved change %lld patchset %d "
		    "(Code-Review +2)", p[i].change, p[i].c.patchset);
	}
	return 0;
}

/* One poll of an unmerged change: 1 merged, 0 not yet, -1 failed. */
static int
merge_poll_one(struct worker *w, struct job *j, struct merge_patch *p,
    char *detail, size_t detailsz)
{
	char	 err[512];
	int	 mergeable;

	if (merge_fetch(w, j, p, detail, detailsz) == -1)
		return -1;
	if (strcmp(p->c.status, "MERGED") == 0) {
		(void)merge_record(w, j->idstr, p, -1);
		logw_say(&j->log, "change %lld is merged", p->change);
		return 1;
	}
	if (gerrit_mergeable(w->cfg, p->change, p->c.current_revision,
	    &mergeable, err, sizeof(err)) == -1) {
		snprintf(detail, detailsz, "Gerrit: %s", err);
		logw_say(&j->log, "%s", detail);
		return -1;
	}
	(void)merge_record(w, j->idstr, p, mergeable);
	if (merge_check(j, p, detail, detailsz) == -1)
		return -1;
	if (!mergeable) {
		p->unmergeable++;
		logw_say(&j->log, "change %lld is not mergeable (%d of %d)",
		    p->change, p->unmergeable, MERGE_UNMERGEABLE_MAX);
		if (p->unmergeable >= MERGE_UNMERGEABLE_MAX) {
			snprintf(detail, detailsz, "change %lld was unmergeable "
			    "%d times (a conflict: rebase it)", p->change,
			    p->unmergeable);
			logw_say(&j->log, "%s", detail);
			return -1;
		}
	}
	return 0;
}

static enum run_status
merge_gerrit(struct worker *w, struct job *j, int timeout_s, int *ok,
    char *detail, size_t detailsz)
{
	struct merge_patch	*p;
	enum run_status		 rs = RUN_DONE;
	int64_t			 deadline = util_now_ms() + timeout_s * 1000LL;
	size_t			 n, i, left;
	int			 r;

	*ok = 0;
	if ((p = merge_patches(w, j->idstr, &n)) == NULL) {
		snprintf(detail, detailsz, "cannot read the deployment's patches");
		logw_say(&j->log, "%s", detail);
		return RUN_DONE;
	}
	logw_say(&j->log, "merging %zu change%s through %s", n, n == 1 ? "" :
	    "s", w->cfg->gerrit_url);
	if (merge_approve_all(w, j, p, n, &rs, detail, detailsz) == -1)
		goto out;
	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			if (p[i].merged)
				continue;
			if ((rs = merge_wait(w, j, 0)) != RUN_DONE)
				goto out;
			if ((r = merge_poll_one(w, j, &p[i], detail,
			    detailsz)) == -1)
				goto out;
			p[i].merged = r;
			left += !r;
		}
		if (left == 0)
			break;
		if (util_now_ms() >= deadline) {
			snprintf(detail, detailsz, "%zu change%s not merged after "
			    "%d s", left, left == 1 ? "" : "s", timeout_s);
			logw_say(&j->log, "%s", detail);
			goto out;
		}
		logw_say(&j->log, "waiting for %zu change%s to merge", left,
		    left == 1 ? "" : "s");
		if ((rs = merge_wait(w, j, w->cfg->gerrit_poll_interval *
		    1000)) != RUN_DONE)
			goto out;
	}
	*ok = 1;
	snprintf(detail, detailsz, "merged %zu change%s", n, n == 1 ? "" : "s");
	logw_say(&j->log, "%s", detail);
out:
	free(p);
	return rs;
}

static enum run_status
merge_git(struct worker *w, struct job *j, int timeout_s, int *ok,
    char *detail, size_t detailsz)
{
	struct merge_patch	*p;
	struct gitsrc_change	 c[20];
	enum run_status		 rs;
	size_t			 n, i;

	*ok = 0;
	if ((p = merge_patches(w, j->idstr, &n)) == NULL) {
		snprintf(detail, detailsz, "cannot read the deployment's patches");
		logw_say(&j->log, "%s", detail);
		return RUN_DONE;
	}
	for (i = 0; i < n && i < 20; i++) {
		c[i].change = p[i].change;
		c[i].pinned = p[i].pinned;
	}
	free(p);
	rs = gitsrc_cherry_pick(w, j, c, i, timeout_s, ok, detail, detailsz);
	return rs;
}

enum run_status
merge_run(struct worker *w, struct job *j, int kind, int timeout_s, int *ok,
    char *detail, size_t detailsz)
{
	if (kind == CFG_KIND_GERRIT_MERGE)
		return merge_gerrit(w, j, timeout_s, ok, detail, detailsz);
	if (kind == CFG_KIND_GIT_CHERRY_PICK)
		return merge_git(w, j, timeout_s, ok, detail, detailsz);
	*ok = 0;
	snprintf(detail, detailsz, "unknown stage kind %d", kind);
	return RUN_DONE;
}

/* Fetch and record the changes of one deployment; 0, or -1 when one
 * could not be fetched or stored. */
static int
merge_fetch_one(struct worker *w, const char *idstr)
{
	struct merge_patch	*p;
	char			 err[512];
	size_t			 n, i;
	int			 rc = 0, mergeable;

	if ((p = merge_patches(w, idstr, &n)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		mergeable = -1;
		if (gerrit_fetch(w->cfg, p[i].change, p[i].pinned, &p[i].c, err,
		    sizeof(err)) == -1 || (strcmp(p[i].c.status, "NEW") == 0 &&
		    gerrit_mergeable(w->cfg, p[i].change,
		    p[i].c.current_revision, &mergeable, err,
		    sizeof(err)) == -1)) {
			log_warn("deployment %s: change %lld: %s", idstr,
			    p[i].change, err);
			rc = -1;
		} else if (merge_record(w, idstr, &p[i], mergeable) == -1)
			rc = -1;
	}
	free(p);
	return rc;
}

void
merge_fetch_wanted(struct worker *w)
{
	PGresult	*res, *err;
	int		 i;

	if (w->cfg->gerrit_url == NULL || util_now_ms() < w->changes_retry_ms)
		return;
	if ((res = db_exec(w->db, "select id from spiderpig.changes_wanted()",
	    0, NULL, &err)) == NULL) {
		if (err != NULL)
			log_warn("changes_wanted: %s", PQresultErrorMessage(err));
		PQclear(err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		if (merge_fetch_one(w, PQgetvalue(res, i, 0)) == -1)
			w->changes_retry_ms = util_now_ms() +
			    MERGE_FETCH_RETRY_MS;
	PQclear(res);
}
