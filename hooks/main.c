/* main.c: spiderpig-hooks: startup, the secret, and the loop that sends
 * the outbox (sql/018) to one receiver ([hooks] name) oldest first,
 * sleeping on LISTEN spiderpig_hooks until a row is due. One process per
 * receiver. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "db.h"
#include "hooks.h"
#include "httpc.h"
#include "notify.h"
#include "util.h"

#define APPNAME		"spiderpig-hooks"
#define SECRET_MAX	512
#define IDLE_MAX_MS	60000		/* wake at least this often */
#define PRUNE_EVERY_MS	(3600 * 1000)
#define PRUNE_BATCH	10000		/* rows per hooks_prune call */
#define DB_RETRY_MIN_MS	250
#define DB_RETRY_MAX_MS	5000

static volatile sig_atomic_t	stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
signals_init(void)
{
	struct sigaction	sa;

	/* No SA_RESTART: a signal ends the poll() we sleep in. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
usage(void)
{
	fprintf(stderr, "usage: spiderpig-hooks -c CONFIG\n");
	exit(2);
}

/* A file holding a secret must be ours alone to read: refuse one that
 * its group or others may read. 0 or -1. */
static int
private_file(const char *path, int fd)
{
	struct stat	st;

	if (fstat(fd, &st) != 0) {
		log_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_warn("%s: holds the webhook secret, so it must not be "
		    "readable by its group or others (chmod 0600 or 0400)",
		    path);
		return -1;
	}
	return 0;
}

/* The secret from [hooks] secret_file: its first line. A new string, or
 * NULL (logged). */
static char *
secret_read(const char *path)
{
	char	 buf[SECRET_MAX + 2], *s = NULL;
	ssize_t	 n;
	size_t	 len;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (private_file(path, fd) != 0)
		goto out;
	if ((n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		log_warn("%s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len < 16 || len > SECRET_MAX) {
		log_warn("%s: the secret must be one line of 16 to %d "
		    "characters", path, SECRET_MAX);
		goto out;
	}
	s = strdup(buf);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return s;
}

/* Refuse to start without what the daemon cannot guess; read the secret
 * into *secret. 0 or -1. */
static int
check_cfg(const struct cfg *c, const char *path, char **secret)
{
	int	fd;

	if (c->db_hooks == NULL) {
		log_warn("%s: [database] hooks is missing", path);
		return -1;
	}
	if (c->hooks_url == NULL) {
		log_warn("%s: [hooks] url is missing", path);
		return -1;
	}
	/* The login secrets stay with the app. */
	if (c->oidc_client_secret != NULL || c->totp_key_set) {
		log_warn("%s: holds [oidc]/[totp] secrets; give the sender a "
		    "config of its own", path);
		return -1;
	}
	if (c->hooks_secret_file != NULL)
		return (*secret = secret_read(c->hooks_secret_file)) == NULL ?
		    -1 : 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    private_file(path, fd) != 0) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return (*secret = strdup(c->hooks_secret)) == NULL ? -1 : 0;
}

/* A fresh connection listening on spiderpig_hooks, with the receiver
 * registered, or NULL (logged). */
static PGconn *
db_listen(const struct cfg *c)
{
	PGconn		*conn;
	PGresult	*res, *err = NULL;

	if ((conn = db_connect(c->db_hooks, APPNAME)) == NULL)
		return NULL;
	if ((res = db_exec(conn, "LISTEN spiderpig_hooks", 0, NULL,
	    &err)) == NULL) {
		log_warn("LISTEN: %s", err != NULL ?
		    PQresultErrorMessage(err) : PQerrorMessage(conn));
		PQclear(err);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	if (outbox_register(conn, c) != 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Sleep until a notification, a signal or ms pass; read what came. */
static void
db_wait(PGconn *conn, long long ms)
{
	struct pollfd	 pfd = { .fd = PQsocket(conn), .events = POLLIN };
	PGnotify	*n;

	if (ms > 0 && !stopping)
		(void)poll(&pfd, 1, notify_watchdog_cap((int)ms));
	if (PQconsumeInput(conn) == 0)
		return;
	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
}

/* A uniformly random 32-bit number for the backoff's jitter. */
static uint32_t
jitter(void)
{
	uint32_t	r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)util_now_ms();
	return r;
}

/*
 * Send one claimed row and record the answer: delivered, a retry after
 * the backoff, or given up after max_attempts. One log line each. 0, or
 * -1 when the database could not record it (the lease brings the row
 * back).
 */
static int
deliver(PGconn *conn, const struct cfg *c, const char *secret,
    const struct outbox_row *row)
{
	char		err[256] = "";
	int64_t		t0 = util_now_ms();
	int		ok, retry;

	ok = hooks_send(c, secret, row, err, sizeof(err));
	if (ok) {
		log_info("delivered id=%lld event=%s attempt=%d ms=%lld",
		    row->id, row->event, row->attempt,
		    (long long)(util_now_ms() - t0));
		return outbox_delivered(conn, c, row);
	}
	if (row->attempt >= c->hooks_max_attempts) {
		log_warn("gave up id=%lld event=%s attempt=%d error=\"%s\"",
		    row->id, row->event, row->attempt, err);
		return outbox_failed(conn, c, row, err, -1);
	}
	retry = hooks_backoff_ms(c->hooks_backoff_ms, c->hooks_backoff_max_ms,
	    row->attempt, jitter());
	log_warn("failed id=%lld event=%s attempt=%d retry_ms=%d "
	    "error=\"%s\"", row->id, row->event, row->attempt, retry, err);
	return outbox_failed(conn, c, row, err, retry);
}

/* Delete the done rows past their retention, a batch per transaction. */
static void
prune(PGconn *conn)
{
	long long	n, total = 0;

	do {
		if ((n = outbox_prune(conn, PRUNE_BATCH)) > 0)
			total += n;
	} while (n == PRUNE_BATCH && !stopping);
	if (total > 0)
		log_info("pruned rows=%lld", total);
}

/*
 * The URL without its path and query, for the log: a receiver's URL may
 * carry a token of its own (many chat services put one in the path).
 */
static void
url_origin(const char *url, char *out, size_t outsz)
{
	const char	*h = strstr(url, "://");
	size_t		 n;

	n = h == NULL ? 0 : (size_t)(h + 3 - url) + strcspn(h + 3, "/?#");
	snprintf(out, outsz, "%.*s", (int)n, url);
}

/*
 * The loop: send what is due, oldest first; then sleep until the next
 * row is due, a NOTIFY says a new one came, or a minute passes; prune
 * the done rows hourly. A lost database is retried with backoff.
 */
static void
run(const struct cfg *c, const char *secret)
{
	struct outbox_row	 row;
	PGconn			*conn = NULL;
	int64_t			 pruned_at = 0;
	long long		 due;
	int			 backoff = 0, got;

	while (!stopping) {
		notify_watchdog();
		if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
			log_warn("lost the database connection: retrying");
			PQfinish(conn);
			conn = NULL;
		}
		if (conn == NULL && (conn = db_listen(c)) == NULL) {
			backoff = backoff == 0 ? DB_RETRY_MIN_MS : backoff * 2;
			if (backoff > DB_RETRY_MAX_MS)
				backoff = DB_RETRY_MAX_MS;
			(void)poll(NULL, 0, backoff);
			continue;
		}
		backoff = 0;
		if (pruned_at == 0 ||
		    util_now_ms() - pruned_at >= PRUNE_EVERY_MS) {
			prune(conn);
			pruned_at = util_now_ms();
		}
		if ((got = outbox_claim(conn, c, &row)) == 1) {
			(void)deliver(conn, c, secret, &row);
			outbox_row_free(&row);
			continue;
		}
		if (got == -1) {
			/* Perhaps pruned as unseen: register again. */
			if (PQstatus(conn) == CONNECTION_OK &&
			    outbox_register(conn, c) != 0)
				log_warn("cannot register the receiver");
			db_wait(conn, DB_RETRY_MIN_MS);
			continue;
		}
		due = outbox_next_due(conn, c);
		if (due == -2)
			due = DB_RETRY_MIN_MS;
		else if (due == -1 || due > IDLE_MAX_MS)
			due = IDLE_MAX_MS;
		db_wait(conn, due);
	}
	PQfinish(conn);
}

int
main(int argc, char *argv[])
{
	struct cfg	*cfg;
	const char	*path = NULL;
	char		 err[512], *secret = NULL;
	int		 ch;

	log_init(APPNAME);
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			usage();
		path = optarg;
	}
	if (path == NULL || optind != argc)
		usage();
	if (geteuid() == 0) {
		log_warn("refusing to run as root: start it as its own user");
		return 2;
	}
	if ((cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return 2;
	}
	if (check_cfg(cfg, path, &secret) != 0) {
		cfg_free(cfg);
		return 2;
	}
	if (httpc_init() != 0) {
		log_warn("cannot initialise libcurl");
		goto out;
	}
	signals_init();
	url_origin(cfg->hooks_url, err, sizeof(err));
	log_info("receiver %s: sending to %s", cfg->hooks_name, err);
	notify_ready();
	run(cfg, secret);
	notify_stopping();
	log_info("stopping");
out:
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	cfg_free(cfg);
	return 0;
}
