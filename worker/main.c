/* main.c: spiderpig-worker: claim runnable deployments and run their stages.
 * Startup, signals, connections and the claim loop live here. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cfg.h"
#include "db.h"
#include "mask.h"
#include "stageuser.h"
#include "util.h"
#include "worker.h"

#define APPNAME		"spiderpig-worker"
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

static int	sigpipe_wr = -1;

static void
on_signal(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	(void)!write(sigpipe_wr, &c, 1);
	errno = saved;
}

void
worker_signals(struct worker *w)
{
	unsigned char	buf[64];
	ssize_t		n, i;

	while ((n = read(w->sigfd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == SIGCHLD) {
				w->child_exited = 1;
				continue;
			}
			if (++w->terms == 1)
				log_info("%s: finishing the current stage, "
				    "then exiting", strsignal(buf[i]));
			else if (w->terms == 2)
				log_info("%s again: killing the running "
				    "command and exiting", strsignal(buf[i]));
		}
}

static int
signals_init(struct worker *w)
{
	struct sigaction	sa;
	int			p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	w->sigfd = p[0];
	sigpipe_wr = p[1];
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1)
		return -1;
	/* The pipes of children and of libpq must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

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
	struct pollfd	pfd = { w->sigfd, POLLIN, 0 };

	if (poll(&pfd, 1, ms) > 0)
		worker_signals(w);
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

	if (call(w, "select spiderpig.worker_seen($1)", 1, p1) == -1 ||
	    call(w, "select spiderpig.expire_prompts()", 0, NULL) == -1 ||
	    call(w, "select spiderpig.offer_next()", 0, NULL) == -1)
		return;
	while (w->terms == 0) {
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
		worker_signals(w);
		/* A stage may take long: keep the prompts' clocks honest. */
		if (call(w, "select spiderpig.expire_prompts()", 0, NULL) == -1)
			return;
		w->db = db_ensure(w->db, w->cfg->db_worker, APPNAME);
		if (w->db == NULL)
			return;
	}
}

/* Wait for a NOTIFY, a signal or the fallback poll interval. */
static void
wait_for_work(struct worker *w)
{
	struct pollfd	 pfd[2];
	PGnotify	*n;

	pfd[0].fd = w->sigfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = PQsocket(w->listen);
	pfd[1].events = POLLIN;
	if (poll(pfd, 2, w->cfg->poll_interval * 1000) <= 0)
		return;
	if (pfd[0].revents)
		worker_signals(w);
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

int
main(int argc, char *argv[])
{
	struct worker	 w;
	struct mask	*mask;
	const char	*path = NULL;
	char		 err[512];
	int		 ch, backoff = BACKOFF_MIN_MS, i;

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

	memset(&w, 0, sizeof(w));
	w.sigfd = -1;
	if ((w.cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return 2;
	}
	if (w.cfg->db_worker == NULL) {
		log_warn("%s: [database] worker is not set", path);
		return 2;
	}
	/* The worker must not hold what the app alone may know. */
	if (w.cfg->oidc_client_secret != NULL || w.cfg->totp_key_set) {
		log_warn("%s: holds [oidc]/[totp] secrets: give the worker a "
		    "config of its own without them", path);
		return 2;
	}
	if (stageuser_init(w.cfg->stage_user, err, sizeof(err)) == -1) {
		log_warn("%s: %s", path, err);
		return 2;
	}
	for (i = 0; i < STAGE__COUNT; i++)
		if (w.cfg->stages[i].argv == NULL)
			log_warn("[stage %s] has no command: the stage will "
			    "fail", cfg_stage_name(i));
	if ((mask = mask_compile(w.cfg->masks, w.cfg->nmasks, err,
	    sizeof(err))) == NULL) {
		log_warn("%s: [worker] %s", path, err);
		return 2;
	}
	snprintf(w.lease, sizeof(w.lease), "%d seconds", w.cfg->lease);
	if (worker_id_init(&w) == -1 || signals_init(&w) == -1) {
		log_warn("startup: %s", strerror(errno));
		return 1;
	}
	if ((w.logw = logw_start(w.cfg->db_worker, mask, w.cfg->log_batch_lines,
	    w.cfg->log_flush_ms)) == NULL) {
		log_warn("cannot start the log writer");
		return 1;
	}
	log_info("worker %s starting", w.id);

	while (w.terms == 0) {
		worker_signals(&w);
		if (connections_ensure(&w) == -1) {
			wait_ms(&w, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		tick(&w);
		if (w.terms == 0 && w.listen != NULL &&
		    PQstatus(w.listen) == CONNECTION_OK)
			wait_for_work(&w);
	}

	log_info("flushing logs and exiting");
	logw_stop(w.logw, w.terms >= 2 ? 2000 : 10000);
	/* Hand back what needs no rollback; the rest waits for its lease. */
	if (w.db != NULL && PQstatus(w.db) == CONNECTION_OK) {
		const char *p1[1] = { w.id };

		(void)call(&w, "select spiderpig.release_held($1)", 1, p1);
	}
	if (w.db != NULL)
		PQfinish(w.db);
	if (w.listen != NULL)
		PQfinish(w.listen);
	cfg_free(w.cfg);
	/* 0: stopped cleanly; 1: a second signal cut a command short. */
	return w.terms >= 2 ? 1 : 0;
}
