/* main.c: spiderpig-fcgi startup, the serving threads and shutdown. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "cfg.h"
#include "cgi.h"
#include "notify.h"
#include "util.h"

#define SHUTDOWN_GRACE_SEC	5
/* A request running this long is stuck (statement_timeout is 30 s and
 * nginx buffers both bodies, so no client is that slow). */
#define STUCK_MS		60000

/* Shared by the serving threads; read-only after startup but the flag. */
struct server {
	const struct cfg	*cfg;
	struct authcache	*cache;		/* verified credentials */
	int			 listen_fd;	/* [fcgi] socket */
	int			 auth_fd;	/* [fcgi] auth_socket, or -1 */
	atomic_int		 stopping;
};

/* One serving thread on listen_fd. kept_fd is the kept-alive connection it
 * waits on between requests (-1 when none or busy), for shutdown to cut;
 * busy_since when its request began (util_now_ms), 0 between requests,
 * for the watchdog. */
struct worker {
	struct server		*srv;
	int			 listen_fd;
	pthread_t		 tid;
	atomic_int		 kept_fd;
	_Atomic int_least64_t	 busy_since;
};

/*
 * One serving thread: its own FCGX_Request and PGconn. No accept mutex:
 * Linux accept() is thread-safe, and a mutex held while a kept-alive
 * connection blocks would stall the others. Each request is finished
 * before the next accept, so its reply is flushed at once.
 */
static void *
serve_thread(void *arg)
{
	struct worker	*w = arg;
	struct server	*srv = w->srv;
	FCGX_Request	 fr;
	PGconn		*db = NULL;

	if (FCGX_InitRequest(&fr, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_warn("FCGX_InitRequest failed");
		return NULL;
	}
	while (!atomic_load(&srv->stopping)) {
		/* With fastcgi_keep_conn, Accept_r waits on the kept
		 * connection, not in accept(): publish it. */
		atomic_store(&w->kept_fd, fr.ipcFd);
		if (atomic_load(&srv->stopping)) {
			atomic_store(&w->kept_fd, -1);
			break;
		}
		if (FCGX_Accept_r(&fr) < 0)
			break;
		atomic_store(&w->kept_fd, -1);
		atomic_store(&w->busy_since, util_now_ms());
		req_serve(&fr, srv->cfg, &db, srv->cache);
		FCGX_Finish_r(&fr);
		atomic_store(&w->busy_since, 0);
	}
	atomic_store(&w->kept_fd, -1);
	FCGX_Free(&fr, 1);
	PQfinish(db);
	return NULL;
}

/* Remove a socket left by an earlier run; refuse to remove anything else. */
static int
remove_stale_socket(const char *path)
{
	struct stat	st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warn("%s exists and is not a socket", path);
		return -1;
	}
	return unlink(path);
}

/*
 * Listen on the unix socket path (a stale one removed first), mode 0660:
 * only our user and the group of its folder (nginx's) may connect. Or, for
 * an ADDRESS:PORT (util_listen_tcp), on that TCP address: an app on a host
 * of its own behind nginx elsewhere, which must be the only one that can
 * reach it (a private network; FCGI_WEB_SERVER_ADDRS in the environment
 * makes libfcgi refuse other peers). Returns the fd or -1.
 */
static int
listen_on(const char *path)
{
	char	addr[16];
	int	fd, port;

	if (util_listen_tcp(path, addr, &port) == 1) {
		if ((fd = FCGX_OpenSocket(path, 1024)) < 0)
			log_warn("cannot listen on %s", path);
		return fd;
	}
	if (remove_stale_socket(path) != 0) {
		log_warn("cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = FCGX_OpenSocket(path, 1024)) < 0) {
		log_warn("cannot listen on %s", path);
		return -1;
	}
	if (chmod(path, 0660) != 0) {
		log_warn("chmod %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/*
 * Refuse to serve in a way that hands the app's powers to others: as root,
 * or with a config holding secrets ([oidc], [totp], [fcgi] metrics_token)
 * that other users may read. Returns 0 or -1 (said on stderr).
 */
static int
startup_checks(const char *config, const struct cfg *cfg)
{
	struct stat	st;
	char		addr[16];
	int		port;

	if (geteuid() == 0 || getuid() == 0) {
		log_warn("refusing to run as root: start the app as its own "
		    "user (e.g. spiderpig-web)");
		return -1;
	}
	if (stat(config, &st) != 0) {
		log_warn("%s: %s", config, strerror(errno));
		return -1;
	}
	if ((cfg->oidc_client_secret != NULL || cfg->totp_key_set ||
	    cfg->fcgi_metrics_token != NULL) &&
	    (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		log_warn("%s holds secrets ([oidc], [totp], metrics_token) "
		    "and others may read it (mode %03o): chmod o-rw", config,
		    (unsigned)(st.st_mode & 0777));
		return -1;
	}
	if (cfg->fcgi_socket == NULL || cfg->fcgi_threads < 1) {
		log_warn("[fcgi] socket and threads are required");
		return -1;
	}
	if (util_listen_tcp(cfg->fcgi_socket, addr, &port) < 0 ||
	    (cfg->fcgi_auth_socket != NULL &&
	    util_listen_tcp(cfg->fcgi_auth_socket, addr, &port) < 0)) {
		log_warn("[fcgi] socket and auth_socket: an absolute path or "
		    "IPV4-ADDRESS:PORT");
		return -1;
	}
	if (cfg->fcgi_auth_socket != NULL &&
	    strcmp(cfg->fcgi_auth_socket, cfg->fcgi_socket) == 0) {
		log_warn("[fcgi] auth_socket must differ from socket");
		return -1;
	}
	return 0;
}

/* Start n serving threads on fd into workers[*started...]. */
static void
threads_start(struct server *srv, struct worker *workers, int fd, int n,
    int *started)
{
	int	i;

	for (i = 0; i < n; i++) {
		struct worker *w = &workers[*started];

		w->srv = srv;
		w->listen_fd = fd;
		atomic_init(&w->kept_fd, -1);
		atomic_init(&w->busy_since, 0);
		if (pthread_create(&w->tid, NULL, serve_thread, w) != 0) {
			log_warn("pthread_create: %s", strerror(errno));
			return;
		}
		(*started)++;
	}
}

/*
 * Block the stop signals in every thread to come (main takes them with
 * sigwait(); libfcgi's own handlers would wake only one thread), start the
 * libraries and open the sockets into srv. 0, or -1 (logged).
 */
static int
server_open(struct server *srv, const struct cfg *cfg, sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (login_init() != 0) {
		log_warn("libcurl initialisation failed");
		return -1;
	}
	if (FCGX_Init() != 0) {
		log_warn("FCGX_Init failed");
		return -1;
	}
	srv->cfg = cfg;
	if ((srv->cache = authcache_new()) == NULL) {
		log_warn("out of memory");
		return -1;
	}
	atomic_init(&srv->stopping, 0);
	if ((srv->listen_fd = listen_on(cfg->fcgi_socket)) < 0)
		return -1;
	if (cfg->fcgi_auth_socket != NULL &&
	    (srv->auth_fd = listen_on(cfg->fcgi_auth_socket)) < 0)
		return -1;
	return 0;
}

/*
 * Start the request threads and, with an auth socket, the auth threads
 * (nthreads in all) into workers; *started counts them. 0 when all
 * started, else -1.
 */
static int
pools_start(struct server *srv, struct worker *workers, int nthreads,
    int *started)
{
	const struct cfg	*cfg = srv->cfg;

	threads_start(srv, workers, srv->listen_fd, cfg->fcgi_threads, started);
	if (*started < cfg->fcgi_threads)
		return -1;
	if (cfg->fcgi_kept_connections > 0)
		log_info("listening on %s with %d threads (nginx keeps up to "
		    "%d connections)", cfg->fcgi_socket, *started,
		    cfg->fcgi_kept_connections);
	else
		log_info("listening on %s with %d threads", cfg->fcgi_socket,
		    *started);
	if (srv->auth_fd < 0)
		return 0;
	threads_start(srv, workers, srv->auth_fd, cfg->fcgi_auth_threads,
	    started);
	if (*started < nthreads)
		return -1;
	log_info("auth subrequests on %s with %d threads",
	    cfg->fcgi_auth_socket, cfg->fcgi_auth_threads);
	return 0;
}

/*
 * Stop the started threads: wake those blocked in accept() (shutdown()
 * makes it fail) and those idle on a kept-alive connection (its read sees
 * EOF). Threads inside a request finish it first; still busy after the
 * grace period, the process leaves anyway with rc (_exit: the kernel
 * closes their connections).
 */
static void
threads_stop(struct server *srv, struct worker *workers, int started, int rc)
{
	const struct cfg	*cfg = srv->cfg;
	struct timespec		 deadline;
	int			 i, fd, busy = 0;

	atomic_store(&srv->stopping, 1);
	FCGX_ShutdownPending();
	if (srv->listen_fd >= 0)
		shutdown(srv->listen_fd, SHUT_RDWR);
	if (srv->auth_fd >= 0)
		shutdown(srv->auth_fd, SHUT_RDWR);
	for (i = 0; i < started; i++)
		if ((fd = atomic_load(&workers[i].kept_fd)) >= 0)
			shutdown(fd, SHUT_RDWR);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SHUTDOWN_GRACE_SEC;
	for (i = 0; i < started; i++)
		if (pthread_timedjoin_np(workers[i].tid, NULL, &deadline) != 0)
			busy++;
	if (srv->listen_fd >= 0 && cfg->fcgi_socket[0] == '/')
		unlink(cfg->fcgi_socket);
	if (srv->auth_fd >= 0 && cfg->fcgi_auth_socket[0] == '/')
		unlink(cfg->fcgi_auth_socket);
	if (busy > 0) {
		log_info("%d threads still busy; exiting", busy);
		_exit(rc);
	}
}

/*
 * Whether the app still serves: on each socket (requests, auth) some
 * thread is free or inside a request younger than STUCK_MS. Threads that
 * all hang in a database call that never returns serve nobody.
 */
static int
threads_alive(const struct server *srv, struct worker *workers, int started)
{
	int64_t		 now = util_now_ms(), since;
	int		 i, fd, pool, any;

	for (pool = 0; pool < 2; pool++) {
		fd = pool == 0 ? srv->listen_fd : srv->auth_fd;
		if (fd < 0)
			continue;
		for (i = any = 0; i < started && !any; i++) {
			since = atomic_load(&workers[i].busy_since);
			any = workers[i].listen_fd == fd &&
			    (since == 0 || now - since < STUCK_MS);
		}
		if (!any)
			return 0;
	}
	return 1;
}

/*
 * Wait for SIGTERM or SIGINT (SIGHUP is ignored), pinging the watchdog
 * while the serving threads are alive. Without a watchdog: sigwait alone.
 */
static int
wait_for_signal(const struct server *srv, struct worker *workers,
    int started, const sigset_t *sigs)
{
	struct timespec	 ts;
	int		 sig, ms, alive, was_alive = 1;

	for (;;) {
		if ((alive = threads_alive(srv, workers, started)))
			notify_watchdog();
		if (alive != was_alive && notify_watchdog_cap(-1) >= 0)
			log_warn(alive ? "serving threads free again: watchdog "
			    "pings resume" : "every serving thread of a socket "
			    "has been in one request for over %d s: no more "
			    "watchdog pings", STUCK_MS / 1000);
		was_alive = alive;
		if ((ms = notify_watchdog_cap(-1)) < 0) {
			if (sigwait(sigs, &sig) != 0)
				sig = SIGTERM;
		} else {
			/* Not alive: look again in a second, no sooner. */
			if (ms < 1000 && !alive)
				ms = 1000;
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000L;
			if ((sig = sigtimedwait(sigs, NULL, &ts)) == -1)
				sig = errno == EAGAIN || errno == EINTR ? SIGHUP :
				    SIGTERM;
		}
		if (sig != SIGHUP)
			return sig;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: spiderpig-fcgi -c CONFIG\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct server	 srv;
	struct cfg	*cfg;
	struct worker	*workers = NULL;
	sigset_t	 sigs;
	const char	*config = NULL;
	char		 err[512];
	int		 ch, sig, started = 0, rc = 1, nthreads;

	log_init("spiderpig-fcgi");
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		default:
			usage();
		}
	}
	if (config == NULL || optind != argc)
		usage();
	if ((cfg = cfg_load(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spiderpig-fcgi: %s\n", err);
		return 1;
	}
	memset(&srv, 0, sizeof(srv));
	srv.listen_fd = srv.auth_fd = -1;
	if (startup_checks(config, cfg) != 0)
		goto out;

	if (server_open(&srv, cfg, &sigs) != 0)
		goto out;
	nthreads = cfg->fcgi_threads +
	    (srv.auth_fd >= 0 ? cfg->fcgi_auth_threads : 0);
	if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL)
		goto out;
	if (pools_start(&srv, workers, nthreads, &started) == 0) {
		notify_ready();
		sig = wait_for_signal(&srv, workers, started, &sigs);
		notify_stopping();
		log_info("signal %d: shutting down", sig);
		rc = 0;
	}
	threads_stop(&srv, workers, started, rc);
out:
	free(workers);
	authcache_free(srv.cache);
	login_cleanup();
	cfg_free(cfg);
	return rc;
}
