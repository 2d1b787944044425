/* main.c: spiderpig-worker: claim runnable deployments and run their stages.
 * Startup, connections and the claim loop live here. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "cfg.h"
#include "db.h"
#include "gerrit.h"
#include "mask.h"
#include "notify.h"
#include "stageuser.h"
#include "util.h"
#include "worker.h"

#define APPNAME		"spiderpig-worker"
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

/* "<hostname>/<pid>/<8 hex>": unique per process, readable in psql. */
static int
worker_id_init(struct worker *w)
{
	char		host[64];
	unsigned char	r[4];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	snprintf(w->id, sizeof(w->id), "%s/%ld/%02x%02x%02x%02x", host,
	    (long)getpid(), r[0], r[1], r[2], r[3]);
	return 0;
}

/* Sleep up to ms, waking early for a signal. */
static void
wait_ms(struct worker *w, int ms)
{
	struct pollfd	pfd = { w->sig.fd, POLLIN, 0 };

	if (poll(&pfd, 1, notify_watchdog_cap(ms)) > 0)
		signals_drain(&w->sig);
}

/* Make sure both connections are up; LISTEN on a new listen connection.
 * Returns 0 or -1 (database unreachable). */
static int
connections_ensure(struct worker *w)
{
	PGconn		*old = w->listen;
	PGresult	*res;

	w->db = db_ensure(w->db, w->cfg->db_worker, APPNAME);
	if (w->db == NULL)
		return -1;
	w->listen = db_ensure(w->listen, w->cfg->db_worker, APPNAME "-listen");
	if (w->listen == NULL)
		return -1;
	if (w->listen != old) {
		if ((res = db_exec(w->listen, "LISTEN spiderpig", 0, NULL,
		    NULL)) == NULL) {
			PQfinish(w->listen);
			w->listen = NULL;
			return -1;
		}
		PQclear(res);
		log_info("connected to the database as worker %s", w->id);
	}
	return 0;
}

/* Run a housekeeping statement, ignoring its result. -1 on failure. */
static int
call(struct worker *w, const char *sql, int n, const char *const *params)
{
	PGresult	*res, *err;

	if ((res = db_exec(w->db, sql, n, params, &err)) == NULL) {
		if (err != NULL)
			log_warn("%s: %s", sql, PQresultErrorMessage(err));
		PQclear(err);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* The [gerrit] url's host is the one change URLs may name: tell SQL
 * (settings.gerrit_host) once per run. */
static void
worker_gerrit_sync(struct worker *w)
{
	const char	*p2[2] = { w->id, w->cfg->gerrit_host };

	if (w->cfg->gerrit_host == NULL || w->gerrit_host_synced)
		return;
	if (call(w, "select spiderpig.gerrit_host_set($1, $2)", 2, p2) == 0) {
		w->gerrit_host_synced = 1;
		log_info("change URLs must name %s ([gerrit] url)",
		    w->cfg->gerrit_host);
	}
}

/*
 * One wake-up: say we are alive, apply prompt timeouts, offer the head of
 * the queue, then claim and run runnable deployments until none is left
 * (each run is one stage or one rollback; the next claim_next returns the
 * same row again while we hold it, with its fresh state).
 */
static void
tick(struct worker *w)
{
	const char	*p1[1] = { w->id };
	const char	*p2[2] = { w->id, w->lease };
	PGresult	*res, *err;

	if (call(w, "select spiderpig.worker_seen($1)", 1, p1) == -1)
		return;
	/* Ready once registered: systemd orders what needs a worker after
	 * this, and while the database is away at start the unit is not up
	 * (TimeoutStartSec, then Restart= tries again). */
	if (!w->ready) {
		notify_ready();
		w->ready = 1;
	}
	if (call(w, "select spiderpig.expire_prompts()", 0, NULL) == -1 ||
	    call(w, "select spiderpig.offer_next()", 0, NULL) == -1)
		return;
	worker_gerrit_sync(w);
	merge_fetch_wanted(w);
	while (w->sig.terms == 0) {
		res = db_exec(w->db, "select id, state, requester, "
		    "array_to_string(patches, ' ') as patches, "
		    "array_to_string(touched_stages, ' ') as touched "
		    "from spiderpig.claim_next($1, $2::interval)", 2, p2, &err);
		if (res == NULL) {
			if (err != NULL)
				log_warn("claim_next: %s",
				    PQresultErrorMessage(err));
			PQclear(err);
			return;
		}
		if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
			PQclear(res);
			return;
		}
		if (job_run(w, res) == -1) {
			PQclear(res);
			return;
		}
		PQclear(res);
		signals_drain(&w->sig);
		/* A stage may take long: keep the prompts' clocks honest. */
		if (call(w, "select spiderpig.expire_prompts()", 0, NULL) == -1)
			return;
		w->db = db_ensure(w->db, w->cfg->db_worker, APPNAME);
		if (w->db == NULL)
			return;
	}
}

/* Wait for a NOTIFY, a signal or the fallback poll interval, pinging the
 * watchdog on the way. */
static void
wait_for_work(struct worker *w)
{
	struct pollfd	 pfd[2];
	PGnotify	*n;
	int64_t		 until = util_now_ms() + w->cfg->poll_interval * 1000LL;
	int		 rc;

	pfd[0].fd = w->sig.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = PQsocket(w->listen);
	pfd[1].events = POLLIN;
	do {
		if (until <= util_now_ms())
			return;
		rc = poll(pfd, 2, notify_watchdog_cap((int)(until -
		    util_now_ms())));
		notify_watchdog();
	} while (rc == 0);
	if (rc < 0)
		return;
	if (pfd[0].revents)
		signals_drain(&w->sig);
	if (pfd[1].revents) {
		if (!PQconsumeInput(w->listen))
			log_warn("listen connection: %s",
			    PQerrorMessage(w->listen));
		while ((n = PQnotifies(w->listen)) != NULL)
			PQfreemem(n);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: spiderpig-worker -c CONFIG\n");
	exit(2);
}

/*
 * Load the config and build everything the loop needs: the mask, the
 * signal pipe, the log writer. Returns 0, or the exit status (2: bad
 * config, 1: the system refused) after saying why.
 */
static int
worker_start(struct worker *w, const char *path)
{
	char	 err[512];
	struct stat	 st;
	int	 i;

	memset(w, 0, sizeof(*w));
	w->sig.fd = -1;
	if ((w->cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return 2;
	}
	if (w->cfg->db_worker == NULL) {
		log_warn("%s: [database] worker is not set", path);
		return 2;
	}
	/* The worker must not hold what the app alone may know. */
	if (w->cfg->oidc_client_secret != NULL || w->cfg->totp_key_set) {
		log_warn("%s: holds [oidc]/[totp] secrets: give the worker a "
		    "config of its own without them", path);
		return 2;
	}
	if (stageuser_init(w->cfg->stage_user, err, sizeof(err)) == -1) {
		log_warn("%s: %s", path, err);
		return 2;
	}
	if (builtin_init() == -1) {
		log_warn("startup: libcurl did not initialise");
		return 1;
	}
	if (builtin_check(w->cfg, err, sizeof(err)) == -1) {
		log_warn("%s: %s", path, err);
		return 2;
	}
	for (i = 0; i < STAGE__COUNT && w->cfg->mode == CFG_MODE_BUILTIN; i++)
		if (w->cfg->stages[i].argv == NULL &&
		    w->cfg->stages[i].kind == CFG_KIND_COMMAND)
			log_warn("[stage %s] has no command: the stage will "
			    "fail", cfg_stage_name(i));
	if ((w->mask = mask_compile(w->cfg->masks, w->cfg->nmasks, err,
	    sizeof(err))) == NULL) {
		log_warn("%s: [worker] %s", path, err);
		return 2;
	}
	/* The secrets we hand to stages are never stored as they are. */
	if (mask_add_env(w->mask, w->cfg->env, w->cfg->nenv) == -1) {
		log_warn("startup: out of memory");
		return 1;
	}
	snprintf(w->lease, sizeof(w->lease), "%d seconds", w->cfg->lease);
	if (gerrit_init() == -1) {
		log_warn("startup: libcurl did not initialise");
		return 1;
	}
	/* The stage commands run as another user: they must not read it. */
	if (w->cfg->gerrit_password_file != NULL &&
	    stat(w->cfg->gerrit_password_file, &st) == 0 &&
	    (st.st_mode & 0077) != 0)
		log_warn("[gerrit] password_file %s is readable by group or "
		    "others: make it 0600, owned by the worker's user",
		    w->cfg->gerrit_password_file);
	if (worker_id_init(w) == -1 || signals_init(&w->sig) == -1) {
		log_warn("startup: %s", strerror(errno));
		return 1;
	}
	if ((w->logw = logw_start(w->cfg->db_worker, w->cfg->log_batch_lines,
	    w->cfg->log_flush_ms)) == NULL) {
		log_warn("cannot start the log writer");
		return 1;
	}
	return 0;
}

/* Until a signal: keep the connections up (backing off while the
 * database is away), do the work, wait for more. */
static void
worker_loop(struct worker *w)
{
	int	 backoff = BACKOFF_MIN_MS;

	while (w->sig.terms == 0) {
		notify_watchdog();
		signals_drain(&w->sig);
		if (connections_ensure(w) == -1) {
			wait_ms(w, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		tick(w);
		if (w->sig.terms == 0 && w->listen != NULL &&
		    PQstatus(w->listen) == CONNECTION_OK)
			wait_for_work(w);
	}
}

/* Store the queued log lines, hand back what needs no rollback (the rest
 * waits for its lease) and free everything. */
static void
worker_stop(struct worker *w)
{
	const char	*p1[1] = { w->id };

	log_info("flushing logs and exiting");
	logw_stop(w->logw, w->sig.terms >= 2 ? 2000 : 10000);
	if (w->db != NULL && PQstatus(w->db) == CONNECTION_OK)
		(void)call(w, "select spiderpig.release_held($1)", 1, p1);
	if (w->db != NULL)
		PQfinish(w->db);
	if (w->listen != NULL)
		PQfinish(w->listen);
	if (w->side != NULL)
		PQfinish(w->side);
	mask_free(w->mask);
	cfg_free(w->cfg);
}

int
main(int argc, char *argv[])
{
	struct worker	 w;
	const char	*path = NULL;
	int		 ch, rc;

	log_init(APPNAME);
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();

	/*
	 * Least privilege: a root worker would make every deploy script root.
	 * The operator starts it as its own user (systemd User=, setpriv),
	 * with CAP_SETUID/CAP_SETGID/CAP_KILL only to run stage commands as
	 * [worker] stage_user (stageuser.c).
	 */
	if (geteuid() == 0 || getuid() == 0) {
		log_warn("refusing to run as root: start the worker as an "
		    "unprivileged user (e.g. setpriv --reuid=spiderpig-worker)");
		return 2;
	}
	if ((rc = worker_start(&w, path)) != 0)
		return rc;
	log_info("worker %s starting", w.id);
	worker_loop(&w);
	notify_stopping();
	worker_stop(&w);
	/* 0: stopped cleanly; 1: a second signal cut a command short. */
	return w.sig.terms >= 2 ? 1 : 0;
}
