/* scapjob.c: scap mode: one scap command runs the whole deployment. Its
 * SPIDERPIG_IO records become log lines, the status and progress the pages
 * show, state moves and prompts; answers go back on its stdin. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "run.h"
#include "scap.h"
#include "util.h"
#include "worker.h"

#define SCAP_APPNAME	"spiderpig-worker-scap"
/* How long the end of a run, and a prompt, keep trying to reach an
 * unreachable database. */
#define SCAP_REPORT_MS	60000
#define SCAP_ASK_MS	30000
#define SCAP_MAX_PATCHES 20
#define SCAP_ARGV_MAX	(CFG_MAX_ARGV + SCAP_MAX_PATCHES + 1)

/* One scap run: what the record filter and the lease callbacks share. */
struct scap_run {
	struct worker		*w;
	struct logw_sink	*log;
	const char		*idstr;
	char			 key[SCAP_KEY_HEX + 1];
	char			 state[32];	/* as we last moved or saw it */
	unsigned		 gen;		/* bumped by each of our moves */
	unsigned		 sent_gen;	/* gen when the poll was sent */
	long long		 sent_prompt;
	int			 stdin_fd;
	long long		 prompt;	/* our open prompt; 0: none */
	char			 promptstr[24];
	enum scap_role		 role;
	struct scap_record	 ask;		/* its keys and labels */
	int			 acked;		/* the rollback was acknowledged */
	int			 declined;	/* no at scap's confirmation */
	char			*text;		/* the last line record's text */
};

static const char *const role_names[] = {
	[SCAP_ROLE_OTHER] = "other",
	[SCAP_ROLE_CONFIRM] = "confirm",
	[SCAP_ROLE_CONTINUE] = "continue",
	[SCAP_ROLE_FAILURE] = "failure",
	[SCAP_ROLE_ACK] = "ack",
};

/*
 * Run a statement returning one text value on the side connection (the
 * main one renews the lease meanwhile), retrying while the database is
 * unreachable for up to retry_ms. On success 0 and *out is a malloc'd copy
 * of the value or NULL; on failure -1.
 */
static int
side_call(struct scap_run *r, const char *sql, int n,
    const char *const *params, int retry_ms, char **out)
{
	/* No signals_drain here: the main loop owns the signal state. */
	return job_call_on(r->w, &r->w->side, SCAP_APPNAME, 0, sql, n, params,
	    retry_ms, out);
}

/* The state a call answered: ours when it is the one we asked for (we
 * moved it, or it was there), else left alone so the next poll sees that
 * someone else moved the row. Frees st. */
static void
state_seen(struct scap_run *r, char *st, const char *asked)
{
	if (st != NULL && asked != NULL && strcmp(st, asked) == 0 &&
	    strcmp(st, r->state) != 0) {
		logw_say(r->log, "scap step: %s", vocab_state_label(st));
		snprintf(r->state, sizeof(r->state), "%s", st);
		r->gen++;
	}
	free(st);
}

/* Set the status text (NULL clears it), moving to step when it names a
 * state. */
static void
scap_set_status(struct scap_run *r, const char *status, const char *step)
{
	const char	*params[4] = { r->idstr, r->w->id, status, step };
	char		*st = NULL;

	if (side_call(r, "select spiderpig.scap_status($1, $2, $3, $4)", 4,
	    params, 0, &st) == -1)
		logw_say(r->log, "could not store scap's status");
	state_seen(r, st, step);
}

static void
scap_set_progress(struct scap_run *r, double pct)
{
	char		 v[16];
	const char	*params[3] = { r->idstr, r->w->id, NULL };
	char		*st = NULL;

	if (pct >= 0) {
		snprintf(v, sizeof(v), "%.1f", pct);
		params[2] = v;
	}
	(void)side_call(r, "select spiderpig.scap_progress($1, $2, $3)", 3,
	    params, 0, &st);
	free(st);
}

/* The question as stored: scap's prompt, then one "key: label" line per
 * choice, so a page that shows only the keys still says what each does. */
static char *
ask_question(const struct scap_record *rec)
{
	char	*q, *next;
	size_t	 i;

	if ((q = strdup(rec->text)) == NULL)
		return NULL;
	for (i = 0; i < rec->nchoices; i++) {
		if (asprintf(&next, "%s\n%s: %s", q, rec->keys[i],
		    rec->labels[i]) == -1) {
			free(q);
			return NULL;
		}
		free(q);
		q = next;
	}
	return q;
}

/* [{"key": K, "label": L}, ...] for scap_ask(). */
static char *
ask_choices(const struct scap_record *rec)
{
	cJSON	*a, *o;
	char	*s = NULL;
	size_t	 i;

	if ((a = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < rec->nchoices; i++) {
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(a, o) ||
		    cJSON_AddStringToObject(o, "key", rec->keys[i]) == NULL ||
		    cJSON_AddStringToObject(o, "label", rec->labels[i]) == NULL)
			goto out;
	}
	s = cJSON_PrintUnformatted(a);
out:
	cJSON_Delete(a);
	return s;
}

/*
 * scap asks: store a 'scap' prompt and keep its record for the answer.
 * Takes rec's contents. Returns RUN_REC_DROP, or RUN_REC_STOP when the
 * prompt cannot be stored (nobody could answer it: scap is stopped).
 */
static enum run_record_verdict
scap_ask(struct scap_run *r, struct scap_record *rec)
{
	enum scap_role	 role = scap_prompt_role(rec);
	const char	*params[7];
	char		*q = NULL, *choices = NULL, *id = NULL;
	const char	*errstr;
	long long	 n;
	enum run_record_verdict v = RUN_REC_STOP;

	if (role == SCAP_ROLE_ACK)
		scap_set_status(r, "scap rolled back", "rolling_back");
	if ((q = ask_question(rec)) == NULL || (choices = ask_choices(rec)) ==
	    NULL)
		goto out;
	params[0] = r->idstr;
	params[1] = r->w->id;
	params[2] = q;
	params[3] = choices;
	params[4] = rec->type == SCAP_CHOICES ?
	    rec->keys[scap_prompt_default(rec, role)] : "";
	params[5] = rec->type == SCAP_INPUT ? "true" : "false";
	params[6] = role_names[role];
	if (side_call(r, "select spiderpig.scap_ask($1, $2, $3, $4::jsonb, $5, "
	    "$6::boolean, $7)", 7, params, SCAP_ASK_MS, &id) == -1 ||
	    id == NULL || util_strtonum(id, 1, INT64_MAX, &n, &errstr) == -1)
		goto out;
	logw_say(r->log, "scap asks (prompt %lld, %s): %s", n, role_names[role],
	    rec->text);
	scap_record_free(&r->ask);
	r->ask = *rec;
	memset(rec, 0, sizeof(*rec));
	r->prompt = n;
	snprintf(r->promptstr, sizeof(r->promptstr), "%lld", n);
	r->role = role;
	v = RUN_REC_DROP;
out:
	if (v == RUN_REC_STOP)
		logw_say(r->log, "could not store scap's question: stopping "
		    "scap");
	free(q);
	free(choices);
	free(id);
	return v;
}

/* run_records.line: one whole stdout line of scap. */
static enum run_record_verdict
scap_line(void *arg, const char *line, size_t len, const char **text,
    size_t *textlen, int *sensitive)
{
	struct scap_run		*r = arg;
	struct scap_record	 rec;
	enum run_record_verdict	 v = RUN_REC_DROP;

	switch (scap_record_parse(line, len, r->key, &rec)) {
	case SCAP_PLAIN:
		v = RUN_REC_PLAIN;
		break;
	case SCAP_BAD:
		logw_say(r->log, "scap sent a record that cannot be used: %s",
		    rec.why);
		break;
	case SCAP_LINE:
		free(r->text);
		r->text = rec.text;
		rec.text = NULL;
		*text = r->text;
		*textlen = strlen(r->text);
		*sensitive = rec.sensitive;
		v = RUN_REC_LOG;
		break;
	case SCAP_STATUS:
		scap_set_status(r, rec.text, scap_state_of_status(rec.text));
		break;
	case SCAP_PROGRESS:
		scap_set_progress(r, rec.progress);
		break;
	case SCAP_CHOICES:
	case SCAP_INPUT:
		v = scap_ask(r, &rec);
		break;
	}
	scap_record_free(&rec);
	return v;
}

/* Write one answer line on scap's stdin. */
static void
scap_write(struct scap_run *r, const char *answer)
{
	char	 buf[600];
	int	 n = snprintf(buf, sizeof(buf), "%s\n", answer);

	if (n < 0 || (size_t)n >= sizeof(buf) || r->stdin_fd == -1 ||
	    write(r->stdin_fd, buf, (size_t)n) != n)
		logw_say(r->log, "could not write the answer to scap: %s",
		    r->stdin_fd == -1 ? "its stdin is closed" : strerror(errno));
}

/* The open prompt was closed: write its answer back (none when it was
 * withdrawn) and note what it means for the deployment. */
static void
scap_answered(struct scap_run *r, const char *answer, const char *by,
    int timed_out)
{
	const char	*label = NULL;
	char		 why[400];
	size_t		 i;

	r->prompt = 0;
	if (answer == NULL) {
		logw_say(r->log, "scap's question was withdrawn");
		goto out;
	}
	for (i = 0; i < r->ask.nchoices; i++)
		if (strcmp(r->ask.keys[i], answer) == 0)
			label = r->ask.labels[i];
	logw_say(r->log, "answer to scap: %s%s%s%s", answer, label ? " (" : "",
	    label ? label : "", label ? ")" : "");
	if (timed_out)
		logw_say(r->log, "nobody answered in time: the default was "
		    "taken");
	scap_write(r, answer);
	if (r->role == SCAP_ROLE_ACK)
		r->acked = 1;
	if (r->role == SCAP_ROLE_CONFIRM && (strcasecmp(answer, "n") == 0 ||
	    (label != NULL && strncasecmp(label, "no", 2) == 0)))
		r->declined = 1;
	for (i = 0; i < r->ask.nchoices; i++)
		if (strcmp(r->ask.keys[i], answer) == 0 &&
		    scap_choice_rolls_back(&r->ask, i)) {
			if (timed_out)
				snprintf(why, sizeof(why), "scap's question "
				    "timed out: \"%s\"", label);
			else
				snprintf(why, sizeof(why), "%s chose \"%s\" at "
				    "scap's question", by != NULL ? by : "?",
				    label);
			scap_set_status(r, why, "rolling_back");
		}
out:
	scap_record_free(&r->ask);
}

/* run_lease.send: scap_poll, without waiting. */
static int
scap_poll_send(void *arg)
{
	struct scap_run	*r = arg;
	struct worker	*w = r->w;
	const char	*params[4] = { w->id, r->idstr, w->lease,
			    r->prompt != 0 ? r->promptstr : NULL };

	w->db = db_ensure(w->db, w->cfg->db_worker, "spiderpig-worker");
	if (w->db == NULL)
		return -1;
	if (!PQsendQueryParams(w->db, "select state, answered, answer, "
	    "answered_by, timed_out from spiderpig.scap_poll($1, $2, "
	    "$3::interval, $4::bigint)", 4, NULL, params, NULL, NULL, 0))
		return -1;
	r->sent_gen = r->gen;
	r->sent_prompt = r->prompt;
	return PQsocket(w->db);
}

/* Every result of the poll in flight: held while the row is ours in the
 * state we know (or one we moved it to since), lost when it is not; an
 * answer to our prompt is acted on once the connection is idle. */
static enum run_lease_answer
scap_poll_result(struct scap_run *r, int act)
{
	PGconn		*db = r->w->db;
	PGresult	*res;
	enum run_lease_answer a = RUN_LEASE_UNKNOWN;
	char		*answer = NULL, *by = NULL;
	int		 answered = 0, timed_out = 0;

	while ((res = PQgetResult(db)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1 && PQnfields(res) == 5) {
			if (PQgetisnull(res, 0, 0))
				a = RUN_LEASE_LOST;
			else if (r->sent_gen != r->gen ||
			    strcmp(PQgetvalue(res, 0, 0), r->state) == 0)
				a = RUN_LEASE_HELD;
			else
				a = RUN_LEASE_LOST;
			if (r->prompt != 0 && r->sent_prompt == r->prompt &&
			    strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
				answered = 1;
				if (!PQgetisnull(res, 0, 2))
					answer = strdup(PQgetvalue(res, 0, 2));
				if (!PQgetisnull(res, 0, 3))
					by = strdup(PQgetvalue(res, 0, 3));
				timed_out = strcmp(PQgetvalue(res, 0, 4),
				    "t") == 0;
			}
		} else
			log_warn("scap_poll: %s", PQerrorMessage(db));
		PQclear(res);
	}
	if (answered && act)
		scap_answered(r, answer, by, timed_out);
	free(answer);
	free(by);
	return a;
}

static enum run_lease_answer
scap_poll_read(void *arg)
{
	struct scap_run	*r = arg;

	if (PQconsumeInput(r->w->db) && PQisBusy(r->w->db))
		return RUN_LEASE_PENDING;
	return scap_poll_result(r, 1);
}

static void
scap_poll_settle(void *arg)
{
	(void)scap_poll_result(arg, 0);
}

/* run_lease.wake: a NOTIFY came (an answer, a rollback request): poll at
 * once. A broken listen connection is dropped (the main loop makes a new
 * one) and no longer watched. */
static int
scap_wake(void *arg)
{
	struct scap_run	*r = arg;
	struct worker	*w = r->w;
	PGnotify	*n;
	int		 any = 0;

	if (w->listen == NULL)
		return -1;
	if (!PQconsumeInput(w->listen)) {
		log_warn("listen connection: %s", PQerrorMessage(w->listen));
		PQfinish(w->listen);
		w->listen = NULL;
		return -1;
	}
	while ((n = PQnotifies(w->listen)) != NULL) {
		any = 1;
		PQfreemem(n);
	}
	return any;
}

/* argv: the configured command, then the patches (already validated, one
 * per word). Fills argv (SCAP_ARGV_MAX) pointing into cfg and patches. */
static void
scap_argv(struct worker *w, char *patches, char **argv)
{
	char	*p, *save = NULL;
	size_t	 n = 0;

	for (; w->cfg->scap_argv[n] != NULL && n < CFG_MAX_ARGV; n++)
		argv[n] = w->cfg->scap_argv[n];
	for (p = strtok_r(patches, " ", &save); p != NULL &&
	    n < SCAP_ARGV_MAX - 1; p = strtok_r(NULL, " ", &save))
		argv[n++] = p;
	argv[n] = NULL;
}

/* A fresh SPIDERPIG_IO_KEY: 256 bits from the kernel's CSPRNG, as hex. */
static int
scap_key(char *key)
{
	unsigned char	 b[SCAP_KEY_HEX / 2];
	size_t		 i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (i = 0; i < sizeof(b); i++)
		snprintf(key + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* Report how the run ended; 0 when it was. */
static int
scap_report(struct scap_run *r, const char *outcome, const char *detail)
{
	const char	*params[4] = { r->idstr, r->w->id, outcome, detail };
	char		*st = NULL;
	int		 rc = -1;

	if (side_call(r, "select spiderpig.scap_end($1, $2, $3, $4)", 4,
	    params, SCAP_REPORT_MS, &st) == -1)
		log_warn("deployment %s: cannot report the end of scap",
		    r->idstr);
	else if (st != NULL) {
		logw_say(r->log, "scap run over (%s: %s): %s", outcome, detail,
		    vocab_state_label(st));
		rc = 0;
	}
	free(st);
	return rc;
}

/* Start the command and pump it to its end; the outcome and detail
 * for scap_end. Returns -1 when the worker is exiting (nothing to report). */
static int
scap_execute(struct scap_run *r, const char *requester, char *patches,
    const char **outcome, char *detail, size_t detailsz)
{
	struct worker	*w = r->w;
	char		*argv[SCAP_ARGV_MAX], *env[3] = { NULL, NULL, NULL };
	char		*patches_env = strdup(patches);
	enum run_status	 rs = RUN_KILLED;
	int		 ok = 0, i;
	struct run_spec	 sp = {
		.stage = "scap",
		.action = "run",
		.timeout_s = w->cfg->scap_timeout,
		.patches = patches_env,
		.requester = requester,
		.env = w->cfg->env,
		.nenv = w->cfg->nenv,
		.log = r->log,
		.sig = &w->sig,
		.lease = {
			.arg = r,
			.interval_ms = w->cfg->heartbeat_interval * 1000,
			.send = scap_poll_send,
			.read = scap_poll_read,
			.settle = scap_poll_settle,
			.wake = w->listen != NULL ? scap_wake : NULL,
			.wake_fd = w->listen != NULL ? PQsocket(w->listen) : -1,
		},
		.extra_env = env,
		.nextra_env = 3,
		.stdin_fd = &r->stdin_fd,
		.stop_signal = SIGINT,
		.grace_ms = w->cfg->scap_grace * 1000,
		.records = { .arg = r, .line = scap_line },
	};

	if (patches_env == NULL || asprintf(&env[0], "SPIDERPIG_IO_KEY=%s",
	    r->key) == -1 || asprintf(&env[1], "SPIDERPIG_REAL_USER=%s",
	    requester) == -1 || (env[2] = strdup("FORCE_COLOR=1")) == NULL) {
		snprintf(detail, detailsz, "out of memory");
		rs = RUN_DONE;
		goto out;
	}
	scap_argv(w, patches, argv);
	sp.argv = argv;
	rs = run_command(&sp, &ok, detail, detailsz);
out:
	for (i = 0; i < 3; i++)
		if (env[i] != NULL) {
			explicit_bzero(env[i], strlen(env[i]));
			free(env[i]);
		}
	free(patches_env);
	if (rs == RUN_KILLED)
		return -1;
	if (rs == RUN_LOST)
		snprintf(detail, detailsz, "interrupted: the deployment was "
		    "rolled back or its lease lost");
	*outcome = r->acked ? "acked" : r->declined ? "declined" :
	    rs == RUN_DONE && ok ? "ok" : "failed";
	return 0;
}

int
scapjob_run(struct worker *w, struct logw_sink *log, const char *idstr,
    const char *requester, const char *patches)
{
	struct scap_run	 r;
	const char	*params[2] = { idstr, w->id };
	const char	*outcome = "failed";
	char		*st = NULL, *words = NULL, detail[256];
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	r.w = w;
	r.log = log;
	r.idstr = idstr;
	r.stdin_fd = -1;
	if (w->sig.terms > 0)
		return -1;	/* shutting down: start nothing new */
	if (side_call(&r, "select spiderpig.scap_begin($1, $2)", 2, params, 0,
	    &st) == -1 || st == NULL) {
		log_warn("deployment %s: cannot begin scap", idstr);
		goto out;
	}
	if (strcmp(st, "started") != 0) {
		/* Claimed in the middle of a run: its process is gone. */
		rc = scap_report(&r, "failed", "no scap process: the run was "
		    "lost with the worker that held it; check the servers");
		goto out;
	}
	snprintf(r.state, sizeof(r.state), "merging");
	if ((words = strdup(patches)) == NULL || scap_key(r.key) == -1) {
		rc = scap_report(&r, "failed", "cannot start scap: out of "
		    "memory or randomness");
		goto out;
	}
	if (scap_execute(&r, requester, words, &outcome, detail,
	    sizeof(detail)) == -1)
		goto out;
	rc = scap_report(&r, outcome, detail);
out:
	explicit_bzero(r.key, sizeof(r.key));
	scap_record_free(&r.ask);
	free(r.text);
	free(words);
	free(st);
	return rc;
}
