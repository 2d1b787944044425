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
#include "util.h"

#define SHUTDOWN_GRACE_SEC	5

/* Shared by the serving threads; read-only after startup but the flag. */
struct server {
	const struct cfg	*cfg;
	int			 listen_fd;
	atomic_int		 stopping;
};

/* One serving thread. kept_fd is the kept-alive connection it waits on
 * between requests (-1 when none or busy), for shutdown to cut. */
struct worker {
	struct server		*srv;
	pthread_t		 tid;
	atomic_int		 kept_fd;
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

	if (FCGX_InitRequest(&fr, srv->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
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
		req_serve(&fr, srv->cfg, &db);
		FCGX_Finish_r(&fr);
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
 * Block the stop signals in every thread to come (main takes them with
 * sigwait(); libfcgi's own handlers would wake only one thread), start the
 * libraries and open the listening socket into srv. 0, or -1 (logged).
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
	if (remove_stale_socket(cfg->fcgi_socket) != 0) {
		log_warn("cannot remove %s: %s", cfg->fcgi_socket,
		    strerror(errno));
		return -1;
	}
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	atomic_init(&srv->stopping, 0);
	srv->listen_fd = FCGX_OpenSocket(cfg->fcgi_socket, 1024);
	if (srv->listen_fd < 0) {
		log_warn("cannot listen on %s", cfg->fcgi_socket);
		return -1;
	}
	if (chmod(cfg->fcgi_socket, 0660) != 0)
		log_warn("chmod %s: %s", cfg->fcgi_socket, strerror(errno));
	return 0;
}

/* Start n serving threads on workers[]; returns how many started. */
static int
threads_start(struct server *srv, struct worker *workers, int n)
{
	int	i, started = 0;

	for (i = 0; i < n; i++) {
		workers[i].srv = srv;
		atomic_init(&workers[i].kept_fd, -1);
		if (pthread_create(&workers[i].tid, NULL, serve_thread,
		    &workers[i]) != 0) {
			log_warn("pthread_create: %s", strerror(errno));
			break;
		}
		started++;
	}
	return started;
}

/*
 * Stop the started threads: wake those blocked in accept() (shutdown()
 * makes it fail) and those idle on a kept-alive connection (its read sees
 * EOF). Threads inside a request finish it first; after the grace period
 * the process leaves anyway (_exit: the kernel closes their connections).
 */
static void
threads_stop(struct server *srv, struct worker *workers, int started)
{
	struct timespec	 deadline;
	int		 i, fd, busy = 0;

	atomic_store(&srv->stopping, 1);
	FCGX_ShutdownPending();
	shutdown(srv->listen_fd, SHUT_RDWR);
	for (i = 0; i < started; i++)
		if ((fd = atomic_load(&workers[i].kept_fd)) >= 0)
			shutdown(fd, SHUT_RDWR);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SHUTDOWN_GRACE_SEC;
	for (i = 0; i < started; i++)
		if (pthread_timedjoin_np(workers[i].tid, NULL, &deadline) != 0)
			busy++;
	unlink(srv->cfg->fcgi_socket);
	if (busy > 0) {
		log_info("%d threads still busy; exiting", busy);
		_exit(0);
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
	int		 ch, sig, started = 0, rc = 1;

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
	if (cfg->fcgi_socket == NULL || cfg->fcgi_threads < 1) {
		fprintf(stderr, "spiderpig-fcgi: [fcgi] socket and threads "
		    "are required\n");
		goto out;
	}

	if (server_open(&srv, cfg, &sigs) != 0)
		goto out;
	if ((workers = calloc((size_t)cfg->fcgi_threads, sizeof(*workers))) == NULL)
		goto out;
	if ((started = threads_start(&srv, workers, cfg->fcgi_threads)) == 0)
		goto out;
	log_info("listening on %s with %d threads", cfg->fcgi_socket, started);

	do {
		if (sigwait(&sigs, &sig) != 0)
			sig = SIGTERM;
	} while (sig == SIGHUP);
	log_info("signal %d: shutting down", sig);
	threads_stop(&srv, workers, started);
	rc = 0;
out:
	free(workers);
	login_cleanup();
	cfg_free(cfg);
	return rc;
}
